"""Turns individual request outcomes into per-interval KPI samples (QPS, errors, latency).

Pure: the load probe feeds (finish time, ok, latency) outcomes in; closed intervals come out.
QPS counts *successful* responses per second, so an outage shows as a dip even when the client
keeps firing requests that fail fast.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Observation:
    ts: float
    """Interval end, seconds since the epoch."""
    qps: float
    error_rate: float
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    requests: int

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an already sorted list (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class IntervalAggregator:
    """Buckets outcomes into fixed intervals aligned to `start`."""

    start: float
    interval: float = 0.2
    _buckets: dict[int, list[tuple[bool, float]]] = field(default_factory=dict)
    _closed_upto: int = 0

    def record(self, finished_at: float, ok: bool, latency_s: float) -> None:
        idx = int((finished_at - self.start) // self.interval)
        if idx < self._closed_upto:
            idx = self._closed_upto  # a straggler: count it in the first open interval
        self._buckets.setdefault(idx, []).append((ok, latency_s))

    def close_until(self, now: float) -> list[Observation]:
        """Emit every interval that ended at or before `now`, including empty ones (QPS 0)."""
        last = int((now - self.start) // self.interval)
        out: list[Observation] = []
        for idx in range(self._closed_upto, last):
            outcomes = self._buckets.pop(idx, [])
            out.append(self._summarise(idx, outcomes))
        self._closed_upto = max(self._closed_upto, last)
        return out

    def _summarise(self, idx: int, outcomes: list[tuple[bool, float]]) -> Observation:
        ok_latencies = sorted(lat * 1000 for ok, lat in outcomes if ok)
        n = len(outcomes)
        failures = n - len(ok_latencies)
        return Observation(
            ts=self.start + (idx + 1) * self.interval,
            qps=len(ok_latencies) / self.interval,
            error_rate=failures / n if n else 0.0,
            latency_p50_ms=percentile(ok_latencies, 50),
            latency_p99_ms=percentile(ok_latencies, 99),
            requests=n,
        )
