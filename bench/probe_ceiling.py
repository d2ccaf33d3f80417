"""The load probe's own ceiling and its sampling overhead.

A probe that cannot drive more load than the service serves measures itself, not the service,
so the figure that matters is how many requests per second one core of the probe sustains.
The bench starts a minimal keep-alive HTTP server on loopback in a separate process (asyncio,
a fixed 200 answer, so the server is cheap), runs `backend.probes.load.run_load` against it in
closed loop for a few seconds per concurrency, and divides the requests it completed by the CPU
seconds the probe's own process used. Then it times the sampling alone (the per-request
`IntervalAggregator.record` and the 5-per-second `close_until`) on synthetic outcomes, and
reports it as a share of the probe's CPU per request.

Usage: .venv/bin/python bench/probe_ceiling.py [seconds per run, default 5]
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from backend.probes.load import LoadConfig, run_load
from backend.probes.series import IntervalAggregator, Observation
from tests.support.net import free_port

SERVER = textwrap.dedent(
    """
    import asyncio, sys

    ANSWER = b"HTTP/1.1 200 OK\\r\\nContent-Length: 3\\r\\n\\r\\nok\\n"
    served = 0

    class Http(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport, self.buf = transport, b""

        def data_received(self, data):
            global served
            self.buf += data
            while b"\\r\\n\\r\\n" in self.buf:  # GET requests: no body
                head, self.buf = self.buf.split(b"\\r\\n\\r\\n", 1)
                if head.startswith(b"GET /count"):
                    body = str(served).encode()
                    head = b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(body)
                    self.transport.write(head + body)
                    continue
                served += 1
                self.transport.write(ANSWER)

    async def main():
        server = await asyncio.get_running_loop().create_server(Http, "127.0.0.1", int(sys.argv[1]))
        print("ready", flush=True)
        await server.serve_forever()

    asyncio.run(main())
    """
)


def _cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


async def _drive(url: str, workers: int, seconds: float) -> tuple[int, int, float, float]:
    """(requests, failures, wall seconds, probe CPU seconds) of one closed-loop run; requests
    as the server counted them (intervals the probe was stalled through are not reported)."""
    got: list[Observation] = []
    async with httpx.AsyncClient() as c:
        before = int((await c.get(f"{url}count")).text)

    async def sink(batch: list[Observation]) -> None:
        got.extend(batch)

    cfg = LoadConfig(url=url, workers=workers, duration=seconds, timeout=2.0)
    cpu0, wall0 = _cpu(), time.perf_counter()
    await run_load(cfg, sink)
    cpu, wall = _cpu() - cpu0, time.perf_counter() - wall0
    async with httpx.AsyncClient() as c:
        requests = int((await c.get(f"{url}count")).text) - before
    failures = round(sum(o.error_rate * o.requests for o in got))
    return requests, failures, wall, cpu


def _sampling_cost(n: int = 200_000) -> tuple[float, float]:
    """(microseconds per recorded outcome, microseconds per closed 200 ms interval) when
    outcomes arrive at 5,000/s and the reporter closes intervals 5 times a second."""
    agg = IntervalAggregator(start=0.0, interval=0.2)
    rate = 5000.0
    t0 = time.perf_counter()
    for i in range(n):
        agg.record(i / rate, True, 0.0005 + (i % 7) * 1e-4)
    record = time.perf_counter() - t0
    intervals = int(n / rate / 0.2)
    t0 = time.perf_counter()
    closed = agg.close_until(n / rate + 0.2)
    close = time.perf_counter() - t0
    assert len(closed) >= intervals
    return 1e6 * record / n, 1e6 * close / len(closed)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    logging.getLogger("httpx").setLevel(logging.WARNING)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        url = f"http://127.0.0.1:{port}/"
        print(f"machine: {os.cpu_count()} cores; loopback asyncio server in its own process")
        per_request_cpu = []
        for workers in (1, 4, 16, 64):
            reqs, fails, wall, cpu = asyncio.run(_drive(url, workers, seconds))
            per_core = reqs / cpu if cpu else float("nan")
            per_request_cpu.append(cpu / reqs if reqs else float("nan"))
            print(
                f"workers {workers:3d}: {reqs / wall:7.0f} req/s, probe CPU {cpu / wall:4.2f} "
                f"cores -> {per_core:7.0f} req/s per core of probe CPU ({fails} failed)"
            )
        rec_us, close_us = _sampling_cost()
        best = min(per_request_cpu)
        print(
            f"sampling: {rec_us:.2f} us per request recorded, {close_us:.1f} us per closed "
            f"200 ms interval (5 per second: {5 * close_us / 1e3:.3f} ms of CPU per second)"
        )
        print(
            f"sampling overhead: {100 * rec_us / (1e6 * best):.2f}% of the probe's CPU per "
            f"request at its ceiling ({1e6 * best:.0f} us per request)"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()


if __name__ == "__main__":
    main()
