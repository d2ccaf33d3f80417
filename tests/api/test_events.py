"""The cross-run event list (GET /events): filters, newest first, pagination, auth; and
starting an experiment, which needs a cluster (local mode explains that)."""

from __future__ import annotations

from typing import Any

import httpx

from backend.api.experiment_manifest import experiment_spec
from backend.spec import API_VERSION, validate_manifest
from tests.api.server import RunningServer
from tests.api.test_runs import start_run


def _events(client: httpx.Client, run: dict[str, Any], *events: tuple[str, str, str]) -> None:
    body = {"events": [{"ts": ts, "type": t, "reason": r} for ts, t, r in events]}
    r = client.post(f"/api/v1/runs/{run['id']}/events:batch", json=body)
    assert r.status_code == 201, r.text


def _seed(client: httpx.Client) -> tuple[dict[str, Any], dict[str, Any]]:
    cart = start_run(client, "shop", "cart")
    search = start_run(client, "search", "index")
    _events(client, cart, ("2026-01-01T10:00:00Z", "Normal", "FaultInjected"),
            ("2026-01-01T10:00:30Z", "Normal", "FaultRemoved"))  # fmt: skip
    _events(client, search, ("2026-01-01T10:00:10Z", "Warning", "Aborted"),
            ("2026-01-01T10:00:20Z", "Normal", "Recovered"))  # fmt: skip
    return cart, search


def _list(client: httpx.Client, **params: Any) -> Any:
    r = client.get("/api/v1/events", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_events_of_every_run_newest_first(client: httpx.Client) -> None:
    cart, _ = _seed(client)
    page = _list(client)
    assert page["total"] == 4
    assert [e["reason"] for e in page["items"]] == [
        "FaultRemoved", "Recovered", "Aborted", "FaultInjected",
    ]  # fmt: skip
    first = page["items"][0]
    assert (first["run_id"], first["namespace"], first["experiment_name"]) == (
        cart["id"], "shop", "cart",
    )  # fmt: skip
    assert first["experiment_id"] == cart["experiment_id"]


def test_filters_combine_and_pages_add_up(client: httpx.Client) -> None:
    cart, search = _seed(client)
    assert [e["reason"] for e in _list(client, namespace="search")["items"]] == [
        "Recovered", "Aborted",
    ]  # fmt: skip
    only = _list(client, experiment_id=cart["experiment_id"], type="Normal")
    assert [e["reason"] for e in only["items"]] == ["FaultRemoved", "FaultInjected"]
    assert _list(client, type="Warning")["items"][0]["run_id"] == search["id"]
    assert _list(client, reason="Recovered")["total"] == 1
    window = _list(client, since="2026-01-01T10:00:10Z", until="2026-01-01T10:00:30Z")
    assert [e["reason"] for e in window["items"]] == ["Recovered", "Aborted"]
    pages = [_list(client, limit=3, offset=o) for o in (0, 3)]
    assert [p["total"] for p in pages] == [4, 4]
    assert [len(p["items"]) for p in pages] == [3, 1]
    ids = [e["id"] for p in pages for e in p["items"]]
    assert ids == [e["id"] for e in _list(client)["items"]]


def test_events_of_a_deleted_experiments_archived_run_keep_its_name(
    client: httpx.Client,
) -> None:
    cart, _ = _seed(client)
    client.patch(f"/api/v1/runs/{cart['id']}", json={"phase": "Finished", "verdict": "Passed"})
    assert client.post(f"/api/v1/runs/{cart['id']}/archive").status_code == 200
    assert client.delete(f"/api/v1/experiments/{cart['experiment_id']}").status_code == 204
    kept = _list(client, namespace="shop")["items"]
    assert {(e["experiment_id"], e["experiment_name"]) for e in kept} == {(None, "cart")}


def test_bad_filters_name_the_parameter(client: httpx.Client) -> None:
    for params, field in [
        ({"type": "Info"}, "type"),
        ({"since": "2026-01-01T10:00:00"}, "since"),  # no time zone
        ({"namespace": "Shop"}, "namespace"),
        ({"limit": 0}, "limit"),
    ]:
        r = client.get("/api/v1/events", params=params)
        assert r.status_code == 422, params
        assert [e["loc"] for e in r.json()["detail"]] == [["query", field]], r.text


def test_events_need_a_token(anon: httpx.Client) -> None:
    r = anon.get("/api/v1/events")
    assert r.status_code == 401
    assert "faultline dashboard reset-token" in r.json()["detail"]


def test_start_in_local_mode_is_503_naming_the_cluster(
    client: httpx.Client, server: RunningServer
) -> None:
    hypothesis = client.post(
        "/api/v1/hypotheses",
        json={
            "namespace": "shop",
            "title": "t",
            "tolerances": [{"probe": "web", "recoverTo": 70, "within": "60s"}],
        },
    ).json()
    spec = {"probes": [{"name": "web", "type": "load", "url": "http://web/"}]}
    exp = client.post(
        "/api/v1/experiments",
        json={"namespace": "shop", "name": "s", "hypothesis_id": hypothesis["id"], "spec": spec},
    ).json()
    r = client.post(f"/api/v1/experiments/{exp['id']}/start")
    assert r.status_code == 503
    assert "cannot create Experiment shop/s: no Kubernetes cluster" in r.json()["detail"]
    bare = client.post("/api/v1/experiments", json={"namespace": "shop", "name": "b"}).json()
    r = client.post(f"/api/v1/experiments/{bare['id']}/start")
    assert r.status_code == 422
    assert "spec.probes is empty" in r.json()["detail"]


def _two_probe_spec() -> dict[str, Any]:
    kill = {"action": "pod-kill", "mode": "one", "selector": {"labelSelectors": {"app": "kv"}}}
    return {
        "probes": [
            {"name": "writes", "type": "load", "url": "http://kv/put"},
            {"name": "reads", "type": "load", "url": "http://kv/get"},
        ],
        "faults": [{"name": "f", "type": "PodChaos", "podChaos": kill}],
        "timing": {"faultDuration": "10s", "baseline": "20s"},
    }


def test_the_hypothesis_is_the_resources_as_it_is() -> None:
    """The dashboard's hypothesis and the resource's are one model: a start composes the
    hypothesis with the experiment's probes, faults and timing, and translates nothing."""
    tolerances = [
        {"probe": "writes", "recoverTo": 80, "within": "30s", "from": "faultStart"},
        {"probe": "reads", "metric": "errorRate", "during": "afterRecovery", "atMost": 0.01},
        {"probe": "reads", "metric": "latencyP99", "atMostPercentOfBaseline": 150},
    ]
    hypothesis = {"title": "a member down", "description": "d", "tolerances": tolerances}
    spec = _two_probe_spec()
    out = experiment_spec("kv/s", spec, hypothesis)
    assert out["hypothesis"] == {**hypothesis, "probes": spec["probes"]}
    assert out["timing"] == spec["timing"] and out["faults"] == spec["faults"]
    assert "probes" not in out
    manifest = {
        "apiVersion": API_VERSION, "kind": "Experiment",
        "metadata": {"name": "s", "namespace": "kv"}, "spec": out,
    }  # fmt: skip
    assert validate_manifest(manifest) == []


def test_start_refuses_a_tolerance_naming_a_probe_the_experiment_lacks(
    client: httpx.Client,
) -> None:
    tolerances = [{"probe": p, "maxDropPercent": 20} for p in ("writes", "wirtes")]
    hypothesis = client.post(
        "/api/v1/hypotheses", json={"namespace": "kv", "title": "t", "tolerances": tolerances}
    )
    assert hypothesis.status_code == 201, hypothesis.text
    assert [t["probe"] for t in hypothesis.json()["tolerances"]] == ["writes", "wirtes"]
    exp = client.post(
        "/api/v1/experiments",
        json={
            "namespace": "kv",
            "name": "typo",
            "hypothesis_id": hypothesis.json()["id"],
            "spec": _two_probe_spec(),
        },
    ).json()
    r = client.post(f"/api/v1/experiments/{exp['id']}/start")
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "tolerances[1].probe names 'wirtes'" in detail, detail
    assert "(writes, reads)" in detail, detail
    empty_probe = {"probe": "", "atMost": 1}
    bad = client.post(
        "/api/v1/hypotheses", json={"namespace": "kv", "title": "t", "tolerances": [empty_probe]}
    )
    assert bad.status_code == 422
    assert [e["loc"] for e in bad.json()["detail"]] == [["body", "tolerances", 0, "probe"]]
