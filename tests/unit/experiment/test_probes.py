"""The probe entry point and the passive probes against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from backend.probes.passive import ProbeError, prometheus_value
from backend.probes.run import run_probe
from backend.probes.series import Observation
from backend.spec.experiment import Probe

REPO = Path(__file__).resolve().parents[3]


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/api/v1/query"):
            body = json.dumps(
                {"status": "success", "data": {"resultType": "vector", "result": [
                    {"metric": {}, "value": [1.0, "42.5"]}]}}
            ).encode()  # fmt: skip
            code = 200
        elif self.path == "/down":
            body, code = b"maintenance", 503
        else:
            body, code = b'{"pod": "web-1"}', 200
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


async def _collect(probe: Probe, seconds: float) -> list[Observation]:
    got: list[Observation] = []

    async def sink(batch: list[Observation]) -> None:
        got.extend(batch)

    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, stop.set)
    await run_probe(probe, sink, stop)
    return got


def _probe(**kw: object) -> Probe:
    return Probe.model_validate({"name": "p", **kw})


def test_http_check_status_and_body_match(server: str) -> None:
    ok = asyncio.run(_collect(_probe(type="http", url=server + "/", interval="100ms"), 1.5))
    assert len(ok) >= 3 and all(o.qps == 1.0 and o.error_rate == 0 for o in ok)
    probe = _probe(type="http", url=server + "/", bodyMatch='"pod": "web-2"', interval="100ms")
    wrong = asyncio.run(_collect(probe, 1.0))
    assert wrong and all(o.qps == 0.0 and o.error_rate == 1.0 for o in wrong)
    down = _probe(type="http", url=server + "/down", expectStatus=[503], interval="100ms")
    assert all(o.qps == 1.0 for o in asyncio.run(_collect(down, 1.0)))


def test_prometheus_probe_reads_the_number(server: str) -> None:
    probe = _probe(type="prometheus", url=server, query="up", interval="100ms")
    got = asyncio.run(_collect(probe, 1.0))
    assert got and {o.qps for o in got} == {42.5}


def test_prometheus_answer_must_be_one_number() -> None:
    scalar = {"status": "success", "data": {"resultType": "scalar", "result": [1, "3"]}}
    assert prometheus_value(scalar) == 3.0
    many = {"status": "success", "data": {"resultType": "vector", "result": [{}, {}]}}
    with pytest.raises(ProbeError, match="one number, got vector of 2"):
        prometheus_value(many)
    with pytest.raises(ProbeError, match="query failed: bad_data"):
        prometheus_value({"status": "error", "error": "bad_data"})


def test_load_probe_command_prints_json_observations(server: str) -> None:
    probe = {"name": "web", "type": "load", "url": server + "/", "workers": 2}
    out = subprocess.run(
        [sys.executable, "-m", "backend.probes.run", "--probe", json.dumps(probe), "--duration=4"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) >= 5  # 200 ms intervals: at least 5 samples a second
    assert all(line["probe"] == "web" for line in lines)
    assert sum(line["requests"] for line in lines) > 0 and max(x["qps"] for x in lines) > 0


def test_probe_command_names_the_bad_field() -> None:
    bad = {"name": "web", "type": "load", "url": "http://x/", "interval": "1s"}
    out = subprocess.run(
        [sys.executable, "-m", "backend.probes.run", "--probe", json.dumps(bad)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2
    assert "--probe" in out.stderr and "interval must be at most 200ms" in out.stderr


def test_local_source_runs_the_probe_in_a_child_process_and_stops_it(server: str) -> None:
    """Local mode: the probe command as a child of the operator, read line by line; stopping
    it ends the process, and the child never outlives its stdin (the operator)."""
    from backend.experiment.sources import LocalSource

    async def go() -> tuple[int, float, int | None, str | None]:
        src = LocalSource(Probe.model_validate({"name": "web", "type": "load", "url": server}))
        await src.start()
        while not (got := await src.samples()):  # interpreter start-up may be slow
            assert src.error() is None
            await asyncio.sleep(0.2)
        await src.stop()
        assert src._proc is not None
        return len(got), max(s.qps for s in got), src._proc.returncode, src.error()

    n, best, returncode, error = asyncio.run(go())
    assert n >= 1 and best > 0 and returncode is not None and error is None
