"""The built-in HTTP load probe: drives traffic at a URL and reports KPI samples.

Two shapes of load: closed-loop (N workers, each sends the next request when the previous one
ends — throughput follows the service's capacity, the usual "QPS" of a dashboard) and open-loop
(a fixed request rate regardless of how the service copes, so a stall shows as errors and
timeouts rather than as a slower client). Each request has a timeout, so a hung connection to a
killed replica becomes an error in its interval instead of stalling the probe.

Runs as `python -m backend.probes.load` inside the cluster (a Job the experiment engine
creates) and prints one JSON observation per line; with `--report-url` it also posts batches to
the dashboard API.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from backend.probes.series import IntervalAggregator, Observation

Sink = Callable[[list[Observation]], Awaitable[None]]
OPEN_LOOP_CLIENTS = 16


@dataclass
class LoadConfig:
    url: str
    method: str = "GET"
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    workers: int = 8
    """Closed-loop concurrency (used when `rate` is None)."""
    rate: float | None = None
    """Open-loop requests per second."""
    timeout: float = 1.0
    interval: float = 0.2
    duration: float | None = None
    max_in_flight: int = 512
    ok_status: tuple[int, int] = (200, 399)

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url: {self.url!r} is not an http(s) URL")
        if self.workers < 1:
            raise ValueError("workers: must be at least 1")
        if self.rate is not None and self.rate <= 0:
            raise ValueError("rate: must be greater than 0")
        if not 0.05 <= self.interval <= 60:
            raise ValueError("interval: must be between 0.05 and 60 seconds")
        if self.timeout <= 0:
            raise ValueError("timeout: must be greater than 0")


async def _one(client: httpx.AsyncClient, cfg: LoadConfig, agg: IntervalAggregator) -> None:
    t0 = time.monotonic()
    ok = False
    try:
        resp = await client.request(cfg.method, cfg.url, content=cfg.body, headers=cfg.headers)
        ok = cfg.ok_status[0] <= resp.status_code <= cfg.ok_status[1]
    except (httpx.HTTPError, OSError):
        ok = False
    t1 = time.monotonic()
    agg.record(_wall(t1), ok, t1 - t0)


_MONO_TO_WALL = time.time() - time.monotonic()


def _wall(mono: float) -> float:
    return mono + _MONO_TO_WALL


def without_stall(
    closed: list[Observation], stall_start: float, lag: float, cfg: LoadConfig
) -> list[Observation]:
    """Drop the intervals the probe itself was stalled through.

    When the reporter wakes more than half an interval late, the probe's process or event loop
    did not run (a starved CPU, a busy neighbour in the operator): it sent no requests, so an
    interval mostly inside that stall holds the probe's silence, not the service's answer.
    Reporting it as zero QPS would be a false dip; it is left out (a gap, no data) instead.
    """
    if lag <= cfg.interval / 2:
        return closed
    return [o for o in closed if o.ts - cfg.interval / 2 < stall_start]


async def run_load(cfg: LoadConfig, sink: Sink, stop: asyncio.Event | None = None) -> None:
    """Drive load until `stop` is set or `duration` passes, sending closed intervals to `sink`."""
    stop = stop or asyncio.Event()
    # One client per closed-loop worker (a slice of the open loop's connections each): one
    # httpx pool shared by many concurrent requests costs more CPU per request the more there
    # are (~3x at 16 workers, bench/probe_ceiling.py), and the probe's own CPU is its ceiling.
    # They share one TLS context: building one per client costs tens of milliseconds each.
    n_clients = cfg.workers if cfg.rate is None else OPEN_LOOP_CLIENTS
    per_client = 1 if cfg.rate is None else -(-cfg.max_in_flight // n_clients)
    limits = httpx.Limits(max_connections=per_client, max_keepalive_connections=per_client)
    timeout = httpx.Timeout(cfg.timeout)
    tls = ssl.create_default_context()

    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(limits=limits, timeout=timeout, verify=tls)
            )
            for _ in range(n_clients)
        ]
        start_mono = time.monotonic()
        agg = IntervalAggregator(start=_wall(start_mono), interval=cfg.interval)
        deadline = None if cfg.duration is None else start_mono + cfg.duration

        def done() -> bool:
            return stop.is_set() or (deadline is not None and time.monotonic() >= deadline)

        async def worker(client: httpx.AsyncClient) -> None:
            while not done():
                await _one(client, cfg, agg)

        async def open_loop() -> None:
            assert cfg.rate is not None
            in_flight: set[asyncio.Task[None]] = set()
            n = 0
            while not done():
                due = start_mono + n / cfg.rate
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                n += 1
                if len(in_flight) >= cfg.max_in_flight:
                    agg.record(time.time(), False, 0.0)  # the service cannot keep up: a failure
                    continue
                task = asyncio.create_task(_one(clients[n % n_clients], cfg, agg))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            if in_flight:
                await asyncio.wait(in_flight, timeout=cfg.timeout + 1)

        async def reporter() -> None:
            while not done():
                slept = time.monotonic()
                await asyncio.sleep(cfg.interval / 2)
                lag = time.monotonic() - slept - cfg.interval / 2
                # When in that sleep the stall began is unknown: count it from the sleep's start.
                closed = without_stall(agg.close_until(time.time()), _wall(slept), lag, cfg)
                if closed:
                    await sink(closed)

        drivers = [worker(c) for c in clients] if cfg.rate is None else [open_loop()]
        await asyncio.gather(reporter(), *drivers)
        closed = agg.close_until(time.time())
        if closed:
            await sink(closed)
