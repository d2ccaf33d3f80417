"""Housekeeping effects on a real database, and its APScheduler wiring."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import httpx
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from sqlalchemy import select

from backend.api import jobs
from backend.db.housekeeping import run_housekeeping
from backend.db.models import Event, Observation, Run
from backend.settings import Settings
from tests.api.server import RunningServer
from tests.api.test_runs import start_run

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def finished_run(client: httpx.Client, name: str) -> int:
    run = start_run(client, name=name)
    client.patch(f"/api/v1/runs/{run['id']}", json={"phase": "Finished", "verdict": "Passed"})
    return int(run["id"])


def test_retention_deletes_old_archives_and_events(
    server: RunningServer, client: httpx.Client
) -> None:
    old, recent, live = (finished_run(client, n) for n in ("old", "recent", "live"))
    with server.app.state.sessions() as session:
        for run_id, archived_at in (
            (old, NOW - timedelta(days=31)),
            (recent, NOW - timedelta(days=2)),
        ):
            run = session.get(Run, run_id)
            assert run is not None
            run.archived, run.archived_at = True, archived_at
        session.add_all([
            Event(run_id=live, ts=NOW - timedelta(days=40), type="Normal", reason="Old"),
            Event(run_id=live, ts=NOW - timedelta(days=1), type="Normal", reason="Fresh"),
        ])  # fmt: skip
        session.commit()
        settings = server.app.state.settings.model_copy(update={"retention_days": 30})
        report = run_housekeeping(session, settings, now=NOW)
    assert (report.archived_runs_deleted, report.events_deleted) == (1, 1)
    assert client.get(f"/api/v1/runs/{old}").status_code == 404
    assert client.get(f"/api/v1/runs/{recent}").json()["archived"] is True
    assert client.get(f"/api/v1/runs/{live}").status_code == 200  # never archived: kept
    reasons = [e["reason"] for e in client.get(f"/api/v1/runs/{live}/events").json()["items"]]
    assert reasons == ["Fresh"]


def test_downsampling_merges_only_complete_old_buckets(
    server: RunningServer, client: httpx.Client
) -> None:
    run_id = finished_run(client, "ds")
    day_ago = NOW.timestamp() - 86400
    # 1 Hz samples from 60 s before the cutoff to 30 s after it.
    points = [
        {
            "probe": "web",
            "ts": day_ago - 60 + i,
            "qps": float(i),
            "error_rate": 0.0,
            "latency_p99_ms": float(i),
        }
        for i in range(90)
    ]
    client.post(f"/api/v1/runs/{run_id}/observations:batch", json={"points": points})
    with server.app.state.sessions() as session:
        report = run_housekeeping(session, server.app.state.settings, now=NOW)
        again = run_housekeeping(session, server.app.state.settings, now=NOW)
    assert (report.observations_merged, report.buckets_written) == (60, 6)
    assert (again.observations_merged, again.buckets_written) == (0, 0)  # idempotent

    series = client.get(f"/api/v1/runs/{run_id}/observations").json()["points"]
    buckets = [p for p in series if p["bucket_seconds"] == 10]
    raw = [p for p in series if p["bucket_seconds"] == 0]
    assert [b["ts"] for b in buckets] == [day_ago - 60 + 10 * k for k in range(6)]
    assert [b["qps"] for b in buckets] == [4.5 + 10 * k for k in range(6)]
    assert [b["latency_p99_ms"] for b in buckets] == [9.0 + 10 * k for k in range(6)]
    assert len(raw) == 30 and raw[0]["ts"] == day_ago


def test_scheduler_runs_the_housekeeping_job(server: RunningServer, client: httpx.Client) -> None:
    run_id = finished_run(client, "sched")
    old = (datetime.now(UTC).timestamp() - 3 * 86400) // 10 * 10  # on a bucket boundary
    client.post(
        f"/api/v1/runs/{run_id}/observations:batch",
        json={"points": [{"probe": "web", "ts": old + i, "qps": 10.0} for i in range(20)]},
    )
    settings: Settings = server.app.state.settings
    scheduler = jobs.make_scheduler(server.app.state.sessions, settings)
    job = scheduler.get_job(jobs.HOUSEKEEPING_JOB_ID)
    assert job.trigger.interval == timedelta(seconds=settings.housekeeping_interval_seconds)
    done = threading.Event()
    outcome: list[JobExecutionEvent] = []

    def record(event: JobExecutionEvent) -> None:
        outcome.append(event)
        done.set()

    scheduler.add_listener(record, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start()  # the job's first run is due immediately
    try:
        done.wait()
    finally:
        scheduler.shutdown(wait=True)
    assert outcome[0].exception is None
    with server.app.state.sessions() as session:
        widths = session.scalars(
            select(Observation.bucket_seconds).where(Observation.run_id == run_id)
        ).all()
    assert sorted(widths) == [10, 10]  # 20 s of 1 Hz samples -> two 10 s buckets
