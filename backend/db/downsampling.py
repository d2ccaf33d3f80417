"""Pure maths for merging raw observations into fixed-width time buckets.

Percentiles cannot be merged exactly from percentiles, so the choices are deliberate:
p50 becomes the request-weighted mean of the samples' p50 (a fair "typical latency"), p99 becomes
the maximum of the samples' p99 (never hides a spike, which is what a chaos run looks for).
error_rate is weighted by qps so a quiet second with one failure does not dominate a bucket.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    ts: float
    qps: float
    error_rate: float | None = None
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None


def bucket_start(ts: float, bucket_seconds: int) -> float:
    return math.floor(ts / bucket_seconds) * bucket_seconds


def _weighted_mean(pairs: Iterable[tuple[float | None, float]]) -> float | None:
    known = [(value, weight) for value, weight in pairs if value is not None]
    if not known:
        return None
    total_weight = sum(weight for _, weight in known)
    if total_weight <= 0:  # no traffic at all: every sample counts the same
        return sum(value for value, _ in known) / len(known)
    return sum(value * weight for value, weight in known) / total_weight


def merge_bucket(start: float, points: Sequence[Point]) -> Point:
    if not points:
        raise ValueError("points: a bucket needs at least one point")
    p99s = [p.latency_p99_ms for p in points if p.latency_p99_ms is not None]
    return Point(
        ts=start,
        qps=sum(p.qps for p in points) / len(points),
        error_rate=_weighted_mean((p.error_rate, p.qps) for p in points),
        latency_p50_ms=_weighted_mean((p.latency_p50_ms, p.qps) for p in points),
        latency_p99_ms=max(p99s) if p99s else None,
    )


def downsample(points: Iterable[Point], bucket_seconds: int) -> list[Point]:
    """Merges points into buckets [k*w, (k+1)*w); the result is sorted by bucket start."""
    if bucket_seconds <= 0:
        raise ValueError(f"bucket_seconds: must be positive, got {bucket_seconds}")
    buckets: dict[float, list[Point]] = {}
    for point in points:
        buckets.setdefault(bucket_start(point.ts, bucket_seconds), []).append(point)
    return [merge_bucket(start, buckets[start]) for start in sorted(buckets)]
