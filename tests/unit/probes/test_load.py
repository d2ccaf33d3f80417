"""The load probe against a real HTTP server on loopback whose health we control."""

import asyncio
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from backend.probes.load import LoadConfig, run_load
from backend.probes.series import Observation


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default of 5 drops bursts of connects


class Service:
    """A loopback HTTP service that can be switched to failing (503) mid-run."""

    def __init__(self) -> None:
        self.failing = False
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like a real service

            def do_GET(self) -> None:
                code = 503 if service.failing else 200
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Service":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _collect(cfg: LoadConfig, during=None) -> list[Observation]:
    got: list[Observation] = []

    async def sink(obs: list[Observation]) -> None:
        got.extend(obs)

    async def main() -> None:
        task = asyncio.create_task(run_load(cfg, sink))
        if during:
            await during()
        await task

    asyncio.run(main())
    return got


def test_open_loop_rate_is_measured() -> None:
    with Service() as svc:
        obs = _collect(LoadConfig(url=svc.url, rate=20, duration=3, interval=0.5))
    assert len(obs) >= 5
    total = sum(o.requests for o in obs)
    # 20 req/s for 3 s = 60. Never more (the rate is a ceiling); a starved CPU may send fewer.
    assert 36 <= total <= 63, total
    assert all(o.error_rate == 0 for o in obs)
    assert all(o.latency_p50_ms is not None and o.latency_p50_ms > 0 for o in obs if o.requests)


def test_outage_shows_as_a_dip_and_errors() -> None:
    with Service() as svc:

        async def outage() -> None:
            await asyncio.sleep(1.0)
            svc.failing = True
            await asyncio.sleep(1.0)
            svc.failing = False

        obs = _collect(LoadConfig(url=svc.url, rate=40, duration=3, interval=0.25), outage)
    failing = [o for o in obs if o.error_rate == 1.0]
    healthy = [o for o in obs if o.error_rate == 0 and o.requests]
    assert len(failing) >= 2  # ~1 s of 0.25 s intervals
    assert all(o.qps == 0 for o in failing)
    assert healthy and min(o.qps for o in healthy) > 0


def test_closed_loop_against_a_dead_port_records_errors() -> None:
    with Service() as svc:
        url = svc.url
    obs = _collect(LoadConfig(url=url, workers=2, duration=1, interval=0.25, timeout=0.2))
    assert sum(o.requests for o in obs) > 0
    assert all(o.qps == 0 for o in obs)


def test_bad_config_names_the_field() -> None:
    with pytest.raises(ValueError, match="url"):
        LoadConfig(url="ftp://x")
    with pytest.raises(ValueError, match="rate"):
        LoadConfig(url="http://x", rate=0)
