"""Passive probes: they observe a service without loading it.

`http` requests one URL once per interval and records whether the answer was what the user
expects (status code, optional body match); its "qps" is availability (1 = the check passed),
so the same recovery maths applies. `prometheus` runs one PromQL query per interval and reports
the number it returns as the probe's value.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import time
from dataclasses import dataclass

import httpx

from backend.probes.load import Sink
from backend.probes.series import Observation


class ProbeError(Exception):
    """The probe could not take a reading at all (not the same as the service failing)."""


@dataclass
class HttpCheck:
    url: str
    method: str = "GET"
    body: bytes | None = None
    expect_status: tuple[int, ...] = ()
    body_match: str | None = None
    timeout: float = 1.0
    interval: float = 1.0

    def passed(self, status: int, text: str) -> bool:
        ok = status in self.expect_status if self.expect_status else 200 <= status < 400
        if ok and self.body_match is not None:
            ok = re.search(self.body_match, text) is not None
        return ok


async def _every(interval: float, stop: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=interval)


async def run_http_check(check: HttpCheck, sink: Sink, stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(timeout=check.timeout) as client:
        while not stop.is_set():
            t0 = time.monotonic()
            try:
                resp = await client.request(check.method, check.url, content=check.body)
                ok = check.passed(resp.status_code, resp.text)
            except (httpx.HTTPError, OSError):
                ok = False
            latency_ms = (time.monotonic() - t0) * 1000
            await sink(
                [
                    Observation(
                        ts=time.time(),
                        qps=1.0 if ok else 0.0,
                        error_rate=0.0 if ok else 1.0,
                        latency_p50_ms=latency_ms if ok else None,
                        latency_p99_ms=latency_ms if ok else None,
                        requests=1,
                    )
                ]
            )
            await _every(max(0.0, check.interval - (time.monotonic() - t0)), stop)


def prometheus_value(payload: dict[str, object]) -> float:
    """The single number of an instant-query answer; anything else is a ProbeError."""
    data = payload.get("data")
    if payload.get("status") != "success" or not isinstance(data, dict):
        raise ProbeError(f"query failed: {payload.get('error', payload.get('status'))}")
    result = data.get("result")
    if data.get("resultType") == "scalar" and isinstance(result, list):
        value = result[1]
    elif data.get("resultType") == "vector" and isinstance(result, list) and len(result) == 1:
        value = result[0]["value"][1]
    else:
        n = len(result) if isinstance(result, list) else 0
        raise ProbeError(f"query must return one number, got {data.get('resultType')} of {n}")
    number = float(value)
    if math.isnan(number):
        raise ProbeError("query returned NaN")
    return number


async def run_prometheus(
    base_url: str, query: str, interval: float, timeout: float, sink: Sink, stop: asyncio.Event
) -> None:
    """Sample the query every interval; a failed reading is skipped (the engine notices the
    silence and treats it as a probe error when the experiment asks for that)."""
    url = base_url.rstrip("/") + "/api/v1/query"
    async with httpx.AsyncClient(timeout=timeout) as client:
        while not stop.is_set():
            t0 = time.monotonic()
            try:
                resp = await client.get(url, params={"query": query})
                value = prometheus_value(resp.json())
                await sink([Observation(time.time(), value, 0.0, None, None, 1)])
            except (httpx.HTTPError, OSError, ValueError, ProbeError, KeyError):
                pass
            await _every(max(0.0, interval - (time.monotonic() - t0)), stop)
