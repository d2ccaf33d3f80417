"""Demo data for the dashboard's end-to-end test, written through the real API.

Experiments, hypotheses, runs, observations and events go through HTTP like any client's. Chaos
objects and schedules have no local-mode write path (the API writes them to a cluster), so they
go into the mirror tables through the repository the cluster watcher uses.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from backend.db.repositories import mirror
from backend.db.repositories.events import record_events

BASELINE_QPS = 100.0


@dataclass(frozen=True)
class Seeded:
    live_experiment_id: int
    live_run_id: int
    live_fault_start: float
    finished_experiment_id: int
    aborted_experiment_id: int
    live_points: int


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def qps_at(t: float, fault_start: float, fault_end: float | None, recover_s: float = 12) -> float:
    """A service that dips to 35 % of its baseline during the fault and ramps back after it."""
    wiggle = 3 * math.sin(t / 3)
    if t < fault_start:
        return BASELINE_QPS + wiggle
    if fault_end is None or t < fault_end:
        return 35 + wiggle
    return min(BASELINE_QPS, 35 + (BASELINE_QPS - 35) * (t - fault_end) / recover_s) + wiggle


def points(
    t0: float, t1: float, fault_start: float, fault_end: float | None
) -> list[dict[str, Any]]:
    out = []
    t = t0
    while t < t1:
        qps = qps_at(t, fault_start, fault_end)
        faulty = fault_start <= t and (fault_end is None or t < fault_end)
        out.append(
            {
                "probe": "web",
                "ts": t,
                "qps": round(qps, 2),
                "error_rate": 0.12 if faulty else 0.002,
                "latency_p50_ms": 18.0 if faulty else 4.0,
                "latency_p99_ms": 240.0 if faulty else 35.0,
            }
        )
        t += 1.0
    return out


def _ok(response: httpx.Response) -> Any:
    assert response.is_success, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json() if response.content else None


def _experiment(api: httpx.Client, name: str, title: str) -> int:
    hypothesis = _ok(
        api.post(
            "/api/v1/hypotheses",
            json={
                "namespace": "shop",
                "title": title,
                "description": "Users keep checking out while one replica is gone.",
                "tolerances": [
                    {"probe": "web", "recoverTo": 30, "within": "60s"},
                    {"probe": "web", "metric": "errorRate", "atMost": 0.2,
                     "during": "afterRecovery"},
                ],
            },
        )
    )
    spec = {
        "faults": [
            {
                "name": "kill-one",
                "type": "PodChaos",
                "podChaos": {
                    "action": "pod-kill",
                    "mode": "one",
                    "selector": {"namespaces": ["shop"], "labelSelectors": {"app": name}},
                },
            }
        ],
        "timing": {"baseline": "30s", "faultDuration": "20s", "recoveryDeadline": "60s"},
    }
    body = {"namespace": "shop", "name": name, "hypothesis_id": hypothesis["id"], "spec": spec}
    return int(_ok(api.post("/api/v1/experiments", json=body))["id"])


def _run(
    api: httpx.Client,
    experiment_id: int,
    start: float,
    *,
    length: float,
    fault: tuple[float, float | None],
    finish: dict[str, Any] | None,
    events: list[tuple[float, str, str, str]],
) -> tuple[int, int]:
    run = _ok(
        api.post(
            f"/api/v1/experiments/{experiment_id}/runs",
            json={"phase": "Observing", "started_at": _iso(start)},
        )
    )
    fault_start, fault_end = fault
    series = points(start, start + length, fault_start, fault_end)
    _ok(api.post(f"/api/v1/runs/{run['id']}/observations:batch", json={"points": series}))
    batch = [{"ts": _iso(ts), "type": kind, "reason": r, "message": m} for ts, kind, r, m in events]
    _ok(api.post(f"/api/v1/runs/{run['id']}/events:batch", json={"events": batch}))
    if finish is not None:
        _ok(api.patch(f"/api/v1/runs/{run['id']}", json=finish))
    return int(run["id"]), len(series)


def seed(api: httpx.Client, sessions: sessionmaker[Session]) -> Seeded:
    now = time.time()
    # A finished experiment with three runs, so its time-to-recover trend has a shape.
    finished = _experiment(api, "checkout", "Checkout survives losing one replica")
    for i, ttr in enumerate((21.0, 16.5, 12.5)):
        start = now - 3600 * (3 - i)
        fs, fe = start + 30, start + 50
        _run(
            api, finished, start, length=110, fault=(fs, fe),
            finish={
                "phase": "Finished", "verdict": "Passed", "finished_at": _iso(start + 110),
                "metrics": {
                    "fault_started_at": fs, "fault_ended_at": fe, "recovered_at": fe + ttr,
                    "baseline_qps": BASELINE_QPS, "baseline_low": 92.0, "baseline_high": 108.0,
                    "time_to_recover_s": ttr, "dip_depth_pct": 65.0,
                },
            },
            events=[
                (fs, "Normal", "FaultInjected", "pod-kill on shop/checkout-7d9f"),
                (fe, "Normal", "FaultRemoved", "fault duration over"),
                (fe + ttr, "Normal", "Recovered", f"QPS back above 95 % after {ttr} s"),
            ],
        )  # fmt: skip
    # An aborted run: QPS fell below the abort threshold.
    aborted = _experiment(api, "cart", "Cart tolerates 30 % packet loss")
    start = now - 1800
    _run(
        api, aborted, start, length=60, fault=(start + 30, start + 40),
        finish={
            "phase": "Aborted", "verdict": "Failed", "finished_at": _iso(start + 60),
            "metrics": {"fault_started_at": start + 30, "aborted_at": start + 40,
                        "fault_ended_at": start + 40, "dip_depth_pct": 65.0},
        },
        events=[
            (start + 30, "Normal", "FaultInjected", "loss 30% on shop/cart-5c4b"),
            (start + 40, "Warning", "Aborted", "qps below 50 % of baseline"),
        ],
    )  # fmt: skip
    # A run still in progress: baseline, then the fault started; the test adds the recovery.
    live = _experiment(api, "search", "Search keeps 30 % of its QPS while a node is cut off")
    start = now - 60
    live_run, live_points = _run(
        api, live, start, length=50, fault=(start + 30, None), finish=None,
        events=[(start + 30, "Normal", "FaultInjected", "partition shop/search-0 from shop/db")],
    )  # fmt: skip
    # An archived run whose experiment was deleted.
    old = _experiment(api, "legacy-io", "Legacy store survives slow disks")
    old_run, _ = _run(
        api, old, now - 86400, length=40, fault=(now - 86390, now - 86380),
        finish={"phase": "Finished", "verdict": "Error", "metrics": {}},
        events=[(now - 86390, "Normal", "FaultInjected", "IO latency 200ms")],
    )  # fmt: skip
    _ok(api.post(f"/api/v1/runs/{old_run}/archive"))
    _ok(api.delete(f"/api/v1/experiments/{old}"))
    with sessions() as session:
        kill = mirror.upsert_chaos_object(
            session, kind="PodChaos", namespace="shop", name="checkout-kill", uid="uid-1",
            spec={"action": "pod-kill", "mode": "one", "selector": {"namespaces": ["shop"]}},
            phase="Running",
            status={"phase": "Running", "desiredTargets": 2, "injectedTargets": 1, "records": [
                {"id": "shop/checkout-7d9f", "node": "node-1", "phase": "Injected",
                 "injectedCount": 1, "recoveredCount": 0},
                {"id": "shop/checkout-8a1c", "node": "node-1", "phase": "Failed",
                 "injectedCount": 0, "recoveredCount": 0, "lastError": "chaosd unreachable"},
            ]},
        )  # fmt: skip
        mirror.upsert_chaos_object(
            session, kind="NetworkChaos", namespace="shop", name="db-delay", uid="uid-2",
            spec={"action": "delay", "mode": "all", "delay": {"latency": "100ms"},
                  "selector": {"labelSelectors": {"app": "db"}}},
            phase="Paused", status={"phase": "Paused", "desiredTargets": 1, "records": []},
        )  # fmt: skip
        record_events(
            session,
            [{"ts": datetime.fromtimestamp(now - 120, UTC), "type": "Warning",
              "reason": "InjectFailed", "message": "shop/checkout-8a1c: chaosd unreachable"}],
            chaos_object_id=kill.id,
        )  # fmt: skip
        mirror.upsert_schedule(
            session, namespace="shop", name="nightly-kill", uid="uid-3", schedule="0 3 * * *",
            type="PodChaos", spec={"podChaos": {"action": "pod-kill", "mode": "one"}},
            phase="Running", status={"lastScheduleTime": _iso(now - 3600)},
        )  # fmt: skip
        session.commit()
    return Seeded(
        live_experiment_id=live,
        live_run_id=live_run,
        live_fault_start=start + 30,
        finished_experiment_id=finished,
        aborted_experiment_id=aborted,
        live_points=live_points,
    )
