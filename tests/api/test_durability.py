"""Durability: every observation batch the API acknowledged survives a SIGKILL of the server.

A real server process (`python -m backend.api`, SQLite in a temporary data dir) takes batches
from a writer thread; the test kills it with SIGKILL while batches are still in flight, starts
a new server on the same data dir and reads everything back through the API.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from backend.api.admin import reset_admin_token
from backend.settings import Settings
from tests.support.net import free_port

pytestmark = pytest.mark.slow

BATCH = 500
ACKED_BEFORE_KILL = 20
REPO = Path(__file__).resolve().parents[2]


@contextmanager
def server_process(data_dir: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    env = {
        **os.environ,
        "FAULTLINE_DATA_DIR": str(data_dir),
        "FAULTLINE_LISTEN": f"127.0.0.1:{port}",
        "FAULTLINE_HOUSEKEEPING_ENABLED": "false",
        "FAULTLINE_LOG_LEVEL": "WARNING",
        "FAULTLINE_MODE": "local",
    }
    env.pop("FAULTLINE_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend.api"], cwd=REPO, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        while True:  # poll, no deadline: start-up (migrations) may be slow on a busy machine
            assert proc.poll() is None, "the dashboard server exited during start-up"
            try:
                if httpx.get(f"{base_url}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield proc, base_url
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def batch(i: int) -> list[dict[str, float]]:
    """Batch i holds timestamps i*BATCH .. i*BATCH+BATCH-1, so every point says its batch."""
    return [{"probe": "web", "ts": float(i * BATCH + j), "qps": float(i)} for j in range(BATCH)]


def test_acknowledged_batches_survive_sigkill(tmp_path: Path) -> None:
    data = tmp_path / "data"
    token = reset_admin_token(Settings(data_dir=data))
    headers = {"Authorization": f"Bearer {token}"}
    acked: list[int] = []
    sent: list[int] = []
    with (
        server_process(data) as (proc, url),
        httpx.Client(base_url=url, headers=headers, timeout=30) as api,
    ):
        experiment = api.post(
            "/api/v1/experiments", json={"namespace": "shop", "name": "durable", "spec": {}}
        ).json()
        run_id = api.post(f"/api/v1/experiments/{experiment['id']}/runs", json={}).json()["id"]

        def write() -> None:
            i = 0
            while True:
                sent.append(i)
                try:
                    answer = api.post(
                        f"/api/v1/runs/{run_id}/observations:batch", json={"points": batch(i)}
                    )
                except httpx.TransportError:
                    return  # the server is gone
                if answer.is_success:
                    acked.append(i)
                i += 1

        writer = threading.Thread(target=write)
        writer.start()
        try:
            while len(acked) < ACKED_BEFORE_KILL and writer.is_alive():
                time.sleep(0.01)
            proc.send_signal(signal.SIGKILL)  # while the writer still sends
            proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
            writer.join()
    assert proc.returncode == -signal.SIGKILL
    assert len(acked) >= ACKED_BEFORE_KILL
    assert sent[-1] not in acked  # the last batch was cut off by the kill

    with (
        server_process(data) as (_, url),
        httpx.Client(base_url=url, headers=headers, timeout=30) as api,
    ):
        series = api.get(f"/api/v1/runs/{run_id}/observations", params={"limit": 100_000})
    assert series.status_code == 200
    stored: dict[int, int] = {}
    for point in series.json()["points"]:
        stored[int(point["ts"]) // BATCH] = stored.get(int(point["ts"]) // BATCH, 0) + 1
    # Every acknowledged batch is complete; a batch cut off by the kill is all or nothing.
    assert all(stored.get(i) == BATCH for i in acked), {i: stored.get(i) for i in acked}
    assert all(count == BATCH for count in stored.values()), stored
    assert set(stored) <= set(sent)
