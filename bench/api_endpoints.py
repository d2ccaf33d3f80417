"""Latency of the dashboard's list and detail endpoints with 10,000 runs stored, and ingest rate.

Seeds experiments and runs straight into the database (Core bulk insert), then times real HTTP
requests to a dashboard server process (`python -m backend.api`) on loopback: a paginated runs
list at random offsets, run detail by random id, the experiments list, the namespace-filtered
archive list, and observation ingest. The server runs in its own process because a client in the
same process measured ~40 ms per request of pure GIL contention (curl saw 4 ms for /healthz).

    .venv/bin/python bench/api_endpoints.py                       # SQLite in a temp dir
    .venv/bin/python bench/api_endpoints.py --throwaway-postgres  # also a local PG 15 (as root)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.api.admin import reset_admin_token
from backend.db.engine import make_engine, make_sessionmaker
from backend.db.migrate import upgrade_to_head
from backend.db.models import Experiment, Run
from backend.settings import Settings
from tests.api.postgres import postgres_server, throwaway_database
from tests.support.net import free_port

REPO = Path(__file__).resolve().parents[1]
NAMESPACES = [f"team-{i}" for i in range(10)]


def seed(settings: Settings, runs: int, experiments: int) -> tuple[int, list[int]]:
    """Stores `experiments` experiments and `runs` runs, half of them in one big experiment
    (a long-lived experiment run on a schedule). Returns the big experiment's id and run ids."""
    now = datetime.now(UTC)
    engine = make_engine(settings)
    upgrade_to_head(engine)
    try:
        with make_sessionmaker(engine)() as session:
            session.execute(
                insert(Experiment),
                [
                    {"namespace": NAMESPACES[i % len(NAMESPACES)], "name": f"exp-{i}",
                     "spec": {}, "status": "finished", "verdict": "passed", "created_at": now,
                     "updated_at": now}
                    for i in range(experiments)
                ],
            )  # fmt: skip
            rows = []
            for k in range(runs):
                exp = 1 if k % 2 == 0 else 2 + k % (experiments - 1)
                started = now - timedelta(minutes=runs - k)
                rows.append({
                    "experiment_id": exp, "namespace": NAMESPACES[(exp - 1) % len(NAMESPACES)],
                    "experiment_name": f"exp-{exp - 1}", "phase": "Finished", "verdict": "passed",
                    "started_at": started, "finished_at": started + timedelta(seconds=90),
                    "metrics": {"recovery_seconds": 12.5, "qps_dip_percent": 31.0},
                    "archived": k % 5 == 0, "archived_at": started if k % 5 == 0 else None,
                    "created_at": started,
                })  # fmt: skip
            session.execute(insert(Run), rows)
            session.commit()
    finally:
        engine.dispose()
    return 1, list(range(1, runs + 1))


@contextlib.contextmanager
def server_process(settings: Settings) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ, "FAULTLINE_DATA_DIR": str(settings.data_dir),
        "FAULTLINE_LISTEN": f"127.0.0.1:{port}", "FAULTLINE_HOUSEKEEPING_ENABLED": "false",
        "FAULTLINE_LOG_LEVEL": "ERROR", "FAULTLINE_MODE": "local",
    }  # fmt: skip
    env.pop("FAULTLINE_DATABASE_URL", None)
    if settings.database_url:
        env["FAULTLINE_DATABASE_URL"] = settings.database_url
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend.api"], cwd=REPO, env=env, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit("the dashboard server exited during start-up")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait()


def timed(client: httpx.Client, n: int, path: Callable[[], str]) -> list[float]:
    out = []
    for _ in range(n):
        url = path()
        began = time.perf_counter()
        client.get(url).raise_for_status()
        out.append((time.perf_counter() - began) * 1000)
    return out


def report(label: str, samples: list[float]) -> None:
    q = statistics.quantiles(samples, n=100)
    print(f"  {label:<44} n={len(samples):<4} p50={q[49]:7.2f} ms  p99={q[98]:7.2f} ms")


def ingest_rate(client: httpx.Client, run_id: int, batches: int, size: int) -> float:
    bodies = [
        json.dumps({"points": [
            {"ts": 1.7e9 + k * size + i * 0.001, "qps": 900.0, "error_rate": 0.01,
             "latency_p50_ms": 4.0, "latency_p99_ms": 40.0}
            for i in range(size)
        ]}).encode()
        for k in range(batches)
    ]  # fmt: skip
    url = f"/api/v1/runs/{run_id}/observations:batch"
    headers = {"Content-Type": "application/json"}
    began = time.perf_counter()
    for body in bodies:
        client.post(url, content=body, headers=headers).raise_for_status()
    return batches * size / (time.perf_counter() - began)


def measure(label: str, settings: Settings, runs: int, n: int) -> None:
    rnd = random.Random(7)
    big, run_ids = seed(settings, runs, experiments=200)
    headers = {"Authorization": f"Bearer {reset_admin_token(settings)}"}
    with (
        server_process(settings) as url,
        httpx.Client(base_url=url, headers=headers, timeout=None) as client,
    ):
        print(f"{label}: {runs:,} runs in 200 experiments ({runs // 2:,} in one)")
        timed(client, 20, lambda: "/api/v1/experiments")  # warm-up
        report("GET /healthz (no auth, no database)", timed(client, n, lambda: "/healthz"))
        pages, exp_pages = range(0, runs // 2, 50), range(0, 200, 50)
        runs_url = f"/api/v1/experiments/{big}/runs?limit=50&offset="
        report("GET /experiments/{id}/runs (50, random page)", timed(
            client, n, lambda: f"{runs_url}{rnd.choice(pages)}"
        ))  # fmt: skip
        report("GET /runs/{id}", timed(
            client, n, lambda: f"/api/v1/runs/{rnd.choice(run_ids)}"))  # fmt: skip
        report("GET /experiments (50, random page)", timed(
            client, n, lambda: f"/api/v1/experiments?limit=50&offset={rnd.choice(exp_pages)}"
        ))  # fmt: skip
        report("GET /experiments?namespace= (filtered)", timed(
            client, n, lambda: f"/api/v1/experiments?namespace={rnd.choice(NAMESPACES)}"
        ))  # fmt: skip
        report("GET /archives?namespace= (50)", timed(
            client, n, lambda: f"/api/v1/archives?namespace={rnd.choice(NAMESPACES)}"
        ))  # fmt: skip
        fresh = client.post(f"/api/v1/experiments/{big}/runs", json={}).json()["id"]
        rate = ingest_rate(client, fresh, batches=10, size=5000)
        print(f"  {'POST /runs/{id}/observations:batch':<44} {rate:,.0f} points/s "
              "(10 batches x 5,000 points)")  # fmt: skip


@contextlib.contextmanager
def sqlite_settings() -> Iterator[Settings]:
    with tempfile.TemporaryDirectory(prefix="faultline-bench-") as d:
        yield Settings(data_dir=Path(d), housekeeping_enabled=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300, help="per endpoint")
    parser.add_argument("--throwaway-postgres", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the admin-token notice is not part of the figures

    with sqlite_settings() as settings:
        measure("SQLite", settings, args.runs, args.requests)
    if args.throwaway_postgres:
        with (
            postgres_server() as server,
            throwaway_database(server) as url,
            sqlite_settings() as base,
        ):
            pg = base.model_copy(update={"database_url": url})
            measure("PostgreSQL", pg, args.runs, args.requests)


if __name__ == "__main__":
    main()
