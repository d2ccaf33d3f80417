"""Runs the dashboard missed are recorded from the Experiment's status when the watcher sees it
(the watcher against a real cluster is tested in tests/e2e/test_dashboard_durability.py)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from backend.api.watcher import store
from tests.api.server import RunningServer

SPEC = {
    "hypothesis": {
        "title": "web recovers within 30 s",
        "probes": [{"name": "web", "type": "load", "url": "http://web/"}],
        "tolerances": [{"probe": "web", "recoverTo": 90, "within": "30s"}],
    },
    "faults": [{"name": "kill", "type": "PodChaos",
                "podChaos": {"action": "pod-kill", "mode": "one", "selector": {}}}],
    "timing": {"baseline": "30s", "faultDuration": "30s", "recoveryDeadline": "60s"},
}  # fmt: skip


def _experiment(name: str, **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "shop", "name": name, "uid": f"uid-{name}"},
        "spec": SPEC,
        "status": {
            "phase": "Finished", "verdict": "Failed",
            "startTime": "2026-12-05T10:00:00Z", "endTime": "2026-12-05T10:01:10Z",
            "faultStartTime": "2026-12-05T10:00:30Z", "faultEndTime": "2026-12-05T10:01:00Z",
            "metrics": [{"probe": "web", "baselineQps": 400.0, "minQps": 100.0,
                         "dipDepthPercent": 75.0, "timeToRecoverFromStartSeconds": 41.5}],
            "results": [{"criterion": "web qps back to 90%", "probe": "web",
                         "expected": "<= 30s", "observed": "41.5s", "passed": False}],
            **status,
        },
    }  # fmt: skip


def _runs(client: httpx.Client) -> list[dict[str, Any]]:
    experiments = client.get("/api/v1/experiments", params={"namespace": "shop"}).json()
    return [
        run
        for e in experiments["items"]
        for run in client.get(f"/api/v1/experiments/{e['id']}/runs").json()["items"]
    ]


def test_a_finished_run_the_dashboard_missed_is_recorded_once(
    server: RunningServer, client: httpx.Client
) -> None:
    sessions: sessionmaker[Session] = server.app.state.sessions
    running = _experiment("missed", phase="Observing", verdict=None)
    with sessions() as session:
        store(session, "Experiment", running)  # not finished: nothing to record yet
    assert _runs(client) == []
    with sessions() as session:
        store(session, "Experiment", _experiment("missed"))
        store(session, "Experiment", _experiment("missed"))  # a relist: still one run
    runs = _runs(client)
    assert [(r["experiment_name"], r["phase"], r["verdict"]) for r in runs] == [
        ("missed", "Finished", "Failed")
    ]
    run = runs[0]
    assert run["started_at"].startswith("2026-12-05T10:00:00")
    assert run["finished_at"].startswith("2026-12-05T10:01:10")
    (probe,) = run["metrics"]["probes"]
    assert probe["baselineQps"] == 400.0 and probe["timeToRecoverFromStartSeconds"] == 41.5
    assert run["metrics"]["fault_started_at"] < run["metrics"]["fault_ended_at"]
    assert run["metrics"]["results"][0]["passed"] is False and run["metrics"]["backfilled"]
    experiment = client.get(f"/api/v1/experiments/{run['experiment_id']}").json()
    assert experiment["verdict"] == "Failed"
    hypothesis = client.get(f"/api/v1/hypotheses/{experiment['hypothesis_id']}").json()
    assert hypothesis["title"] == "web recovers within 30 s"
    assert hypothesis["namespace"] == "shop"


def test_a_run_seen_starting_gets_its_end_and_a_finished_one_is_left_alone(
    server: RunningServer, client: httpx.Client
) -> None:
    sessions: sessionmaker[Session] = server.app.state.sessions
    made = client.post("/api/v1/experiments", json={"namespace": "shop", "name": "half"}).json()
    half = client.post(f"/api/v1/experiments/{made['id']}/runs", json={"phase": "Baseline"}).json()
    client.post(f"/api/v1/runs/{half['id']}/observations:batch",
                json={"points": [{"probe": "web", "ts": 1_800_000_000, "qps": 10.0}]})  # fmt: skip
    with sessions() as session:
        store(session, "Experiment",
              _experiment("half", verdict="Passed", dashboardRunId=half["id"]))  # fmt: skip
    run = client.get(f"/api/v1/runs/{half['id']}").json()
    assert (run["phase"], run["verdict"]) == ("Finished", "Passed")
    points = client.get(f"/api/v1/runs/{half['id']}/observations").json()["points"]
    assert len(points) == 1  # the curve the live mirror sent is kept
    assert len(_runs(client)) == 1

    # The live mirror recorded the end itself: a status saying otherwise changes nothing.
    with sessions() as session:
        store(session, "Experiment",
              _experiment("half", verdict="Failed", dashboardRunId=half["id"]))  # fmt: skip
    assert client.get(f"/api/v1/runs/{half['id']}").json()["verdict"] == "Passed"


def test_an_aborted_run_is_recorded_as_aborted(server: RunningServer, client: httpx.Client) -> None:
    sessions: sessionmaker[Session] = server.app.state.sessions
    with sessions() as session:
        store(session, "Experiment", _experiment("stopped", verdict="Aborted", phase="Aborted"))
    (run,) = _runs(client)
    assert run["phase"] == "Aborted" and run["metrics"]["aborted_at"] > 0
