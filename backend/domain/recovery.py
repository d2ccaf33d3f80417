"""Recovery metrics: what a fault did to a service's KPI, computed from the observed series.

Pure functions over (time, value) samples so the verdict logic is unit-tested on synthetic series
with known answers. Times are seconds relative to the run's start. The baseline is the median of
the baseline window, and its noise band is derived from the median absolute deviation, so a
noisy service is judged against its own noise and not against a fixed number.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

# Scale factor that turns a median absolute deviation into a standard-deviation estimate.
_MAD_TO_SIGMA = 1.4826
_EPS = 1e-6  # sample times are sums of float intervals


@dataclass(frozen=True)
class Sample:
    t: float
    qps: float
    error_rate: float = 0.0
    """Failed requests / all requests in the interval, 0..1."""
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None
    requests: int = 0
    """Requests finished in the interval (0 when unknown, e.g. a Prometheus value)."""


@dataclass(frozen=True)
class Baseline:
    median: float
    low: float
    """Lower edge of the noise band: values at or above it count as 'normal'."""
    high: float
    samples: int


@dataclass(frozen=True)
class RecoveryMetrics:
    baseline: Baseline
    min_qps: float
    min_at: float | None
    dip_depth_pct: float
    """How far below the baseline median the KPI fell, in % of the median (0 = no dip)."""
    time_to_impact: float | None
    """Seconds from fault start until the KPI first left the noise band downward."""
    dip_duration: float
    """Seconds the KPI spent below the band after fault start."""
    recovered_at: float | None
    """First time after the dip from which the KPI stayed >= the recovery threshold."""
    time_to_recover_from_start: float | None
    time_to_recover_from_end: float | None
    lost_requests: float
    """Requests not served compared with the baseline rate (the error budget used)."""
    failed_requests: float


def baseline_of(samples: Sequence[Sample], start: float, end: float, *, k: float = 3.0) -> Baseline:
    """Median of the window, with a band of k robust standard deviations, at least 5% wide and
    wide enough to hold the window's own 5th..95th percentiles (a bimodal service has MAD 0)."""
    values = sorted(s.qps for s in samples if start <= s.t < end)
    if not values:
        raise ValueError(f"baseline window [{start:g}s, {end:g}s) holds no samples")
    med = statistics.median(values)
    mad = statistics.median(abs(v - med) for v in values)
    half_width = max(k * _MAD_TO_SIGMA * mad, 0.05 * med)
    p05 = values[int(0.05 * (len(values) - 1))]
    p95 = values[int(0.95 * (len(values) - 1))]
    low = max(0.0, min(med - half_width, p05))
    return Baseline(med, low, max(med + half_width, p95), len(values))


def _intervals(samples: Sequence[Sample]) -> list[tuple[Sample, float]]:
    """Pair each sample with the time it represents (until the next sample)."""
    out: list[tuple[Sample, float]] = []
    for i, s in enumerate(samples):
        if i + 1 < len(samples):
            dt = samples[i + 1].t - s.t
        else:
            dt = samples[i].t - samples[i - 1].t if i else 0.0
        out.append((s, max(dt, 0.0)))
    return out


def recovery_metrics(
    samples: Sequence[Sample],
    *,
    baseline: Baseline,
    fault_start: float,
    fault_end: float,
    recover_ratio: float = 0.9,
    hold: float = 3.0,
) -> RecoveryMetrics:
    """Measure the dip and the recovery after `fault_start`.

    `recover_ratio` x baseline median is the recovery threshold; the KPI must stay at or above it
    for `hold` seconds (or until the series ends) for the recovery to count, so one lucky sample
    in the middle of an outage is not a recovery.
    """
    ordered = sorted(samples, key=lambda s: s.t)
    after = [s for s in ordered if s.t >= fault_start]
    threshold = recover_ratio * baseline.median

    min_sample = min(after, key=lambda s: s.qps) if after else None
    min_qps = min_sample.qps if min_sample else baseline.median
    dip = 0.0 if baseline.median <= 0 else max(0.0, 1 - min_qps / baseline.median) * 100

    impact = next((s.t for s in after if s.qps < baseline.low), None)
    below = 0.0
    lost = 0.0
    failed = 0.0
    for s, dt in _intervals(after):
        if s.qps < baseline.low:
            below += dt
        lost += max(0.0, baseline.median - s.qps) * dt
        failed += s.qps * s.error_rate * dt

    noise = max(0.0, baseline.median - baseline.low)
    # A dip below the recovery line that stays inside a very wide (noisy) band is still a dip:
    # recovery is searched from whichever came first.
    dip_start = next((s.t for s in after if s.qps < threshold), None)
    starts = [t for t in (impact, dip_start) if t is not None]
    recovered_at = _recovered_at(after, min(starts, default=None), threshold, hold, noise)
    return RecoveryMetrics(
        baseline=baseline,
        min_qps=min_qps,
        min_at=min_sample.t if min_sample else None,
        dip_depth_pct=dip,
        time_to_impact=None if impact is None else impact - fault_start,
        dip_duration=below,
        recovered_at=recovered_at,
        time_to_recover_from_start=None if recovered_at is None else recovered_at - fault_start,
        time_to_recover_from_end=None
        if recovered_at is None
        else max(0.0, recovered_at - fault_end),
        lost_requests=lost,
        failed_requests=failed,
    )


def _recovered_at(
    after: Sequence[Sample], impact: float | None, threshold: float, hold: float, noise: float
) -> float | None:
    """Start of the first `hold`-second window after the impact that begins at or above the
    threshold, averages at or above it, and never falls further below it than the baseline's
    own noise (`noise`). Averaging over the hold keeps sampling noise around the threshold from
    postponing a recovery that has happened; the floor keeps a relapse from counting."""
    if not after:
        return None
    if impact is None:
        # Never left the band: recovered from the start (time-to-recover 0).
        return after[0].t
    floor = threshold - noise
    candidates = [i for i, s in enumerate(after) if s.t >= impact]
    for i in candidates:
        start = after[i]
        if start.qps < threshold:
            continue
        window = [s for s in after[i:] if s.t - start.t <= hold + _EPS]
        if window[-1].t - start.t < hold - _EPS:
            return None  # the series ends before the hold does: not (yet) recovered
        if min(s.qps for s in window) < floor:
            continue
        if statistics.fmean(s.qps for s in window) >= threshold:
            return start.t
    return None  # never held the threshold for `hold` seconds


def smooth(samples: Sequence[Sample], window: float) -> list[Sample]:
    """Trailing mean over `window` seconds, so one 200 ms interval that happened to finish few
    requests is not read as an outage; latency takes the worst value of the window."""
    ordered = sorted(samples, key=lambda s: s.t)
    out: list[Sample] = []
    lo = 0
    for i, s in enumerate(ordered):
        while ordered[lo].t <= s.t - window:
            lo += 1
        win = ordered[lo : i + 1]
        reqs = sum(w.requests for w in win)
        if reqs:
            err = sum(w.error_rate * w.requests for w in win) / reqs
        else:
            err = statistics.fmean(w.error_rate for w in win)
        p50 = [w.latency_p50_ms for w in win if w.latency_p50_ms is not None]
        p99 = [w.latency_p99_ms for w in win if w.latency_p99_ms is not None]
        out.append(
            Sample(
                t=s.t,
                qps=statistics.fmean(w.qps for w in win),
                error_rate=err,
                latency_p50_ms=max(p50) if p50 else None,
                latency_p99_ms=max(p99) if p99 else None,
                requests=reqs,
            )
        )
    return out
