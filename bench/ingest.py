"""Observation ingest throughput of the dashboard API, in points per second.

Measures two things on each database: the full path (HTTP POST of JSON batches to a real uvicorn
server on loopback -> validation -> Core executemany) and the repository insert alone.

    .venv/bin/python bench/ingest.py                         # SQLite in a temp dir
    .venv/bin/python bench/ingest.py --postgres-url postgresql+psycopg://user@host:5432/db
    .venv/bin/python bench/ingest.py --throwaway-postgres    # starts a local PG 15 (as root)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.api.app import create_app
from backend.db.repositories.observations import insert_observations
from backend.settings import Settings
from tests.api.postgres import postgres_server, throwaway_database
from tests.api.server import serve


def batch(start: float, size: int) -> list[dict[str, float]]:
    return [
        {"ts": start + i * 0.001, "qps": 1000.0 + i % 50, "error_rate": 0.002,
         "latency_p50_ms": 4.2, "latency_p99_ms": 38.0}
        for i in range(size)
    ]  # fmt: skip


def measure(label: str, settings: Settings, batches: int, size: int) -> None:
    app = create_app(settings, configure_logs=False)
    with serve(app) as server:
        headers = {"Authorization": f"Bearer {app.state.initial_admin_token}"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=None) as client:
            exp = client.post("/api/v1/experiments", json={"namespace": "bench", "name": "b"})
            run = client.post(f"/api/v1/experiments/{exp.json()['id']}/runs", json={}).json()
            # Bodies are encoded up front: a real probe encodes in its own process, and here the
            # client shares this process (and the GIL) with the server being measured.
            bodies = [
                json.dumps({"points": batch(1.7e9 + k * size, size)}).encode()
                for k in range(batches + 1)
            ]
            url = f"/api/v1/runs/{run['id']}/observations:batch"
            json_type = {"Content-Type": "application/json"}
            client.post(url, content=bodies.pop(), headers=json_type).raise_for_status()  # warm-up
            began = time.perf_counter()
            for body in bodies:
                client.post(url, content=body, headers=json_type).raise_for_status()
            http_rate = batches * size / (time.perf_counter() - began)
        rows = [batch(1.8e9 + k * size, size) for k in range(batches)]
        with app.state.sessions() as session:
            began = time.perf_counter()
            for points in rows:
                insert_observations(session, run["id"], points)
            db_rate = batches * size / (time.perf_counter() - began)
    print(
        f"{label:<11} HTTP ingest {http_rate:>9,.0f} points/s   "
        f"repository insert {db_rate:>9,.0f} points/s   ({batches} batches x {size} points)"
    )


@contextlib.contextmanager
def sqlite_settings() -> Iterator[Settings]:
    with tempfile.TemporaryDirectory(prefix="faultline-bench-") as d:
        yield Settings(data_dir=Path(d), housekeeping_enabled=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--postgres-url", help="an empty database: postgresql+psycopg://...")
    parser.add_argument("--throwaway-postgres", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the admin-token notice is not part of the figures

    with sqlite_settings() as settings:
        measure("SQLite", settings, args.batches, args.batch_size)
    if args.postgres_url:
        with sqlite_settings() as base:
            pg = base.model_copy(update={"database_url": args.postgres_url})
            measure("PostgreSQL", pg, args.batches, args.batch_size)
    if args.throwaway_postgres:
        with (
            postgres_server() as server,
            throwaway_database(server) as url,
            sqlite_settings() as base,
        ):
            pg = base.model_copy(update={"database_url": url})
            measure("PostgreSQL", pg, args.batches, args.batch_size)


if __name__ == "__main__":
    main()
