"""The engine's dashboard mirror against the real API app (SQLite, served over loopback HTTP),
and its promise never to break a run when the dashboard is down."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backend.api.app import create_app
from backend.api.experiment_manifest import experiment_spec
from backend.domain.recovery import Sample
from backend.experiment.dashboard import Dashboard, claim_of, live_marks, same_claim
from backend.experiment.machine import RunState
from backend.settings import Settings
from backend.spec.experiment import ExperimentSpec, Tolerance
from tests.api.server import RunningServer, serve
from tests.support.net import free_port

LOG = logging.getLogger("test.dashboard")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[RunningServer, str]]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'faultline.db'}",
        housekeeping_enabled=False,
        log_json=True,
        log_level="WARNING",
    )
    with serve(create_app(settings)) as running:
        yield running, str(running.app.state.initial_admin_token)


def test_a_run_with_its_observations_and_verdict_reaches_the_dashboard(api) -> None:
    server, token = api
    samples = [Sample(1_800_000_000 + i * 0.2, 40.0, 0.0, 3.0, 9.0, 8) for i in range(10)]
    reads = [Sample(1_800_000_000 + i * 0.2, 90.0, 0.0, 1.0, 2.0, 18) for i in range(7)]

    async def mirror() -> int | None:
        dash = Dashboard(server.base_url, token, LOG)
        run_id = await dash.open_run("shop", "kill-one", {"timing": {}}, None)
        await dash.observations({"writes": samples[:6], "reads": reads[:2]})
        # Only the new points of each probe are sent.
        await dash.observations({"writes": samples, "reads": reads})
        await dash.phase("Observing")
        await dash.phase("Finished", "Passed", {"probes": [{"probe": "web"}]})
        await dash.close()
        return run_id

    run_id = asyncio.run(mirror())
    assert run_id is not None
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.base_url, headers=headers) as c:
        run = c.get(f"/api/v1/runs/{run_id}").json()
        assert (run["phase"], run["verdict"]) == ("Finished", "Passed")
        assert run["experiment_name"] == "kill-one" and run["namespace"] == "shop"
        points = c.get(f"/api/v1/runs/{run_id}/observations").json()["points"]
        assert len(points) == len(samples) + len(reads)  # every probe's series, once
        for probe, sent in (("writes", samples), ("reads", reads)):
            url, params = f"/api/v1/runs/{run_id}/observations", {"probe": probe}
            series = c.get(url, params=params).json()["points"]
            assert [p["ts"] for p in series] == pytest.approx([s.t for s in sent])
            assert {(p["probe"], p["qps"]) for p in series} == {(probe, sent[0].qps)}
        exp = c.get("/api/v1/experiments", params={"namespace": "shop"}).json()["items"]
        assert [(e["name"], e["verdict"]) for e in exp] == [("kill-one", "Passed")]


def test_the_fault_window_reaches_the_dashboard_while_the_run_goes_on(api) -> None:
    """A live chart shades the fault window before the verdict: each phase change carries it."""
    server, token = api
    t0 = 1_800_000_000.0
    injecting = RunState(phase="Injecting", start=t0, fault_start=t0 + 10)
    recovering = RunState(phase="Recovering", start=t0, fault_start=t0 + 10, fault_end=t0 + 15)
    assert live_marks(RunState(phase="Baseline", start=t0)) is None

    async def mirror(state: RunState) -> int | None:
        dash = Dashboard(server.base_url, token, LOG)
        run_id = await dash.open_run("shop", "live", {"timing": {}}, None)
        await dash.phase(state.phase, metrics=live_marks(state))
        await dash.close()
        return run_id

    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.base_url, headers=headers) as c:
        run = c.get(f"/api/v1/runs/{asyncio.run(mirror(injecting))}").json()
        assert (run["phase"], run["verdict"]) == ("Injecting", None)
        assert run["metrics"] == {"fault_started_at": t0 + 10}
        run = c.get(f"/api/v1/runs/{asyncio.run(mirror(recovering))}").json()
        assert run["metrics"] == {"fault_started_at": t0 + 10, "fault_ended_at": t0 + 15}


def test_a_dashboard_that_is_down_never_breaks_the_run(caplog) -> None:
    port = free_port()  # closed again: nothing listens there

    async def mirror() -> int | None:
        dash = Dashboard(f"http://127.0.0.1:{port}", "t", LOG)
        run_id = await dash.open_run("ns", "x", {}, None)
        await dash.observations({"web": [Sample(1.0, 1.0)]})
        await dash.phase("Finished", "Failed")
        await dash.close()
        return run_id

    with caplog.at_level(logging.WARNING):
        assert asyncio.run(mirror()) is None
    assert "dashboard GET /experiments failed" in caplog.text


SPEC = {
    "hypothesis": {
        "title": "checkout survives losing a pod",
        "description": "QPS back within 20 s, errors stay low",
        "probes": [{"name": "web", "type": "load", "url": "http://web/"}],
        "tolerances": [
            {"probe": "web", "recoverTo": 90, "within": "20s"},
            {"probe": "web", "metric": "errorRate", "atMost": 0.01, "during": "afterRecovery"},
            {"probe": "web", "metric": "latencyP99", "atMostPercentOfBaseline": 300},
            {"probe": "web", "atLeastPercentOfBaseline": 120},  # had no dashboard equivalent
        ],
    },
    "faults": [
        {
            "name": "kill",
            "type": "PodChaos",
            "podChaos": {"action": "pod-kill", "mode": "one", "selector": {}},
        }
    ],
    "timing": {"baseline": "30s", "faultDuration": "10s"},
}
TOLERANCES = [
    Tolerance.model_validate(t).model_dump(mode="json", by_alias=True, exclude_none=True)
    for t in SPEC["hypothesis"]["tolerances"]
]
"""Every tolerance as written, with the resource's defaults filled in: nothing dropped."""


def _open(server: RunningServer, token: str, namespace: str, name: str) -> int | None:
    async def go() -> int | None:
        dash = Dashboard(server.base_url, token, LOG)
        try:
            return await dash.open_run(namespace, name, SPEC, None)
        finally:
            await dash.close()

    return asyncio.run(go())


def _plain(tolerances: list[dict]) -> list[dict]:
    return [{k: v for k, v in t.items() if v is not None} for t in tolerances]


def test_the_hypothesis_reaches_the_dashboard_and_is_shared_not_copied(api) -> None:
    server, token = api
    assert _open(server, token, "shop", "kill-one") is not None
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.base_url, headers=headers) as c:
        [hyp] = c.get("/api/v1/hypotheses").json()["items"]
        assert hyp["title"] == "checkout survives losing a pod"
        assert hyp["description"] == "QPS back within 20 s, errors stay low"
        assert _plain(hyp["tolerances"]) == TOLERANCES
        [exp] = c.get("/api/v1/experiments", params={"namespace": "shop"}).json()["items"]
        assert exp["hypothesis_id"] == hyp["id"]
        assert hyp["namespace"] == "shop"
        # A second run of it, and another experiment of the namespace saying the same: one row.
        assert _open(server, token, "shop", "kill-one") is not None
        assert _open(server, token, "shop", "kill-two") is not None
        assert [h["id"] for h in c.get("/api/v1/hypotheses").json()["items"]] == [hyp["id"]]
        [two] = [
            e
            for e in c.get("/api/v1/experiments", params={"namespace": "shop"}).json()["items"]
            if e["name"] == "kill-two"
        ]
        assert two["hypothesis_id"] == hyp["id"]
        # Another namespace never shares it: an experiment uses its own namespace's hypothesis.
        assert _open(server, token, "other", "kill-three") is not None
        [other] = c.get("/api/v1/experiments", params={"namespace": "other"}).json()["items"]
        theirs = c.get(f"/api/v1/hypotheses/{other['hypothesis_id']}").json()
        assert other["hypothesis_id"] != hyp["id"] and theirs["namespace"] == "other"
        assert _plain(theirs["tolerances"]) == TOLERANCES


def test_an_experiment_row_without_a_hypothesis_gets_one(api) -> None:
    """A row made earlier (or whose hypothesis was deleted) is patched; one that has a
    hypothesis someone attached in the dashboard keeps it."""
    server, token = api
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.base_url, headers=headers) as c:
        bare = c.post("/api/v1/experiments", json={"namespace": "shop", "name": "bare"})
        assert bare.status_code == 201 and bare.json()["hypothesis_id"] is None
        mine = c.post(
            "/api/v1/hypotheses",
            json={
                "namespace": "shop",
                "title": "mine",
                "tolerances": [{"probe": "web", "atLeast": 1}],
            },
        ).json()
        kept = {"namespace": "shop", "name": "kept", "hypothesis_id": mine["id"]}
        assert c.post("/api/v1/experiments", json=kept).status_code == 201
        assert _open(server, token, "shop", "bare") is not None
        assert _open(server, token, "shop", "kept") is not None
        rows = {e["name"]: e for e in c.get("/api/v1/experiments").json()["items"]}
        made = c.get(f"/api/v1/hypotheses/{rows['bare']['hypothesis_id']}").json()
        assert made["title"] == "checkout survives losing a pod"
        assert _plain(made["tolerances"]) == TOLERANCES
        assert rows["kept"]["hypothesis_id"] == mine["id"]


def test_the_hypothesis_goes_back_to_the_cluster_as_it_came() -> None:
    """A hypothesis mirrored from a resource starts a run from the dashboard with the very same
    tolerances; a spec without tolerances has no hypothesis to mirror."""
    spec = ExperimentSpec.model_validate(SPEC)
    body = claim_of(spec)
    assert body is not None and _plain(body["tolerances"]) == TOLERANCES
    stored = {**body, "id": 1, "namespace": "shop", "statements": []}
    assert same_claim(stored, body)
    assert not same_claim({**stored, "tolerances": stored["tolerances"][:1]}, body)
    probes_only = {**SPEC, "hypothesis": {"probes": SPEC["hypothesis"]["probes"]}}
    out = experiment_spec("shop/kill-one", probes_only, body)
    assert ExperimentSpec.model_validate(out) == spec
    bare = {**SPEC, "hypothesis": {**SPEC["hypothesis"], "tolerances": []}}
    assert claim_of(ExperimentSpec.model_validate(bare)) is None
