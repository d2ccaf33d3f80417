"""Runs: phases drive the experiment summary; observation ingest; events; archives."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from backend.db.models import Observation
from tests.api.server import RunningServer
from tests.api.test_experiments import make_experiment

T0 = 1_700_000_000.0


def start_run(client: httpx.Client, namespace: str = "shop", name: str = "exp") -> Any:
    exp = make_experiment(client, namespace, name)
    r = client.post(f"/api/v1/experiments/{exp['id']}/runs", json={"metrics": {"baseline": 1}})
    assert r.status_code == 201, r.text
    return r.json()


def test_run_lifecycle_sets_experiment_status_and_verdict(client: httpx.Client) -> None:
    run = start_run(client)
    assert run["phase"] == "Pending" and run["started_at"] is not None
    exp_url = f"/api/v1/experiments/{run['experiment_id']}"
    assert client.get(exp_url).json()["status"] == "running"

    r = client.patch(f"/api/v1/runs/{run['id']}", json={"phase": "Injecting"})
    assert r.json()["finished_at"] is None
    r = client.patch(
        f"/api/v1/runs/{run['id']}",
        json={"phase": "Finished", "verdict": "Failed", "metrics": {"ttr_seconds": 74.5}},
    )
    assert r.status_code == 200
    assert r.json()["finished_at"] is not None
    assert r.json()["metrics"] == {"ttr_seconds": 74.5}
    exp = client.get(exp_url).json()
    assert (exp["status"], exp["verdict"]) == ("finished", "Failed")

    listed = client.get(f"{exp_url}/runs").json()
    assert [x["id"] for x in listed["items"]] == [run["id"]]


def test_run_for_unknown_experiment_is_404(client: httpx.Client) -> None:
    r = client.post("/api/v1/experiments/4242/runs", json={})
    assert r.status_code == 404
    assert r.json()["detail"] == "experiment 4242 not found"


def test_ingest_stores_every_point(client: httpx.Client, server: RunningServer) -> None:
    run = start_run(client)
    points = [
        {
            "probe": "web",
            "ts": T0 + i * 0.5,
            "qps": 100.0 + i,
            "error_rate": 0.01,
            "latency_p99_ms": 20.0,
        }
        for i in range(5000)
    ]
    r = client.post(f"/api/v1/runs/{run['id']}/observations:batch", json={"points": points})
    assert r.status_code == 201, r.text
    assert r.json() == {"run_id": run["id"], "inserted": 5000}
    with server.app.state.sessions() as session:
        count = session.scalar(select(func.count()).where(Observation.run_id == run["id"]))
        qps_sum = session.scalar(select(func.sum(Observation.qps)))
    assert count == 5000
    assert qps_sum == sum(p["qps"] for p in points)

    series = client.get(
        f"/api/v1/runs/{run['id']}/observations", params={"since": T0 + 10, "until": T0 + 12}
    ).json()
    assert [p["ts"] for p in series["points"]] == [T0 + 10, T0 + 10.5, T0 + 11, T0 + 11.5]
    assert series["points"][0] == {
        "probe": "web", "ts": T0 + 10, "qps": 120.0, "error_rate": 0.01, "latency_p50_ms": None,
        "latency_p99_ms": 20.0, "bucket_seconds": 0,
    }  # fmt: skip


def test_ingest_validation_names_the_point_and_field(client: httpx.Client) -> None:
    run = start_run(client)
    url = f"/api/v1/runs/{run['id']}/observations:batch"
    points: list[dict[str, Any]] = [
        {"probe": "web", "ts": T0, "qps": 1},
        {"probe": "web", "ts": T0 + 1, "qps": -3},
    ]
    r = client.post(url, json={"points": points})
    assert r.status_code == 422
    assert [e["loc"] for e in r.json()["detail"]] == [["body", "points", 1, "qps"]]
    r = client.post(url, json={"points": [{"probe": "web", "ts": T0, "qps": 1, "error_rate": 2}]})
    assert [e["loc"] for e in r.json()["detail"]] == [["body", "points", 0, "error_rate"]]
    r = client.post(url, json={"points": []})
    assert [e["loc"] for e in r.json()["detail"]] == [["body", "points"]]
    # Nothing from the rejected batches was stored.
    assert client.get(f"/api/v1/runs/{run['id']}/observations").json()["points"] == []


def test_ingest_into_unknown_run_is_404(client: httpx.Client) -> None:
    r = client.post(
        "/api/v1/runs/999/observations:batch",
        json={"points": [{"probe": "web", "ts": T0, "qps": 1}]},
    )
    assert r.status_code == 404
    assert r.json()["detail"] == "run 999 not found"


def test_events_per_run(client: httpx.Client) -> None:
    run = start_run(client)
    events = [
        {
            "ts": "2026-01-01T10:00:05Z",
            "type": "Warning",
            "reason": "ProbeFailed",
            "message": "p99",
        },
        {"ts": "2026-01-01T10:00:00Z", "reason": "Injected", "message": "3 pods"},
    ]
    r = client.post(f"/api/v1/runs/{run['id']}/events:batch", json={"events": events})
    assert r.json()["inserted"] == 2
    page = client.get(f"/api/v1/runs/{run['id']}/events").json()
    assert [(e["reason"], e["type"]) for e in page["items"]] == [
        ("Injected", "Normal"),
        ("ProbeFailed", "Warning"),
    ]
    warnings = client.get(f"/api/v1/runs/{run['id']}/events", params={"type": "Warning"}).json()
    assert warnings["total"] == 1
    r = client.post(
        f"/api/v1/runs/{run['id']}/events:batch",
        json={"events": [{"ts": "2026-01-01T10:00:00", "reason": "x"}]},
    )
    assert [e["loc"] for e in r.json()["detail"]] == [["body", "events", 0, "ts"]]


def test_archived_runs_survive_experiment_deletion(client: httpx.Client) -> None:
    kept = start_run(client, name="kept")
    dropped = client.post(f"/api/v1/experiments/{kept['experiment_id']}/runs", json={}).json()
    r = client.post(f"/api/v1/runs/{kept['id']}/archive")
    assert r.status_code == 409
    assert "only finished runs" in r.json()["detail"]
    client.patch(f"/api/v1/runs/{kept['id']}", json={"phase": "Aborted"})
    client.post(
        f"/api/v1/runs/{kept['id']}/observations:batch",
        json={"points": [{"probe": "web", "ts": T0, "qps": 9}]},
    )
    archived = client.post(f"/api/v1/runs/{kept['id']}/archive").json()
    assert archived["archived"] is True and archived["archived_at"] is not None

    assert client.delete(f"/api/v1/experiments/{kept['experiment_id']}").status_code == 204
    assert client.get(f"/api/v1/runs/{dropped['id']}").status_code == 404
    survivor = client.get(f"/api/v1/runs/{kept['id']}").json()
    assert survivor["experiment_id"] is None
    assert (survivor["namespace"], survivor["experiment_name"]) == ("shop", "kept")
    points = client.get(f"/api/v1/runs/{kept['id']}/observations").json()["points"]
    assert [p["qps"] for p in points] == [9.0]

    archives = client.get("/api/v1/archives", params={"namespace": "shop"}).json()
    assert [a["id"] for a in archives["items"]] == [kept["id"]]
    r = client.post(
        f"/api/v1/runs/{kept['id']}/observations:batch",
        json={"points": [{"probe": "web", "ts": T0, "qps": 1}]},
    )
    assert r.status_code == 409
    assert client.delete(f"/api/v1/archives/{kept['id']}").status_code == 204
    assert client.get(f"/api/v1/runs/{kept['id']}").status_code == 404
    assert client.get("/api/v1/archives").json()["total"] == 0
