"""Verdicts on synthetic series whose answers are known by construction.

The canonical story: 100 QPS baseline for 30 s; the fault (30..40 s) halves QPS at 31 s, QPS is
back at 100 from 36 s; the run ends at 60 s.
"""

from __future__ import annotations

import random

import pytest

from backend.domain.recovery import Sample, smooth
from backend.domain.verdict import (
    NoBaseline,
    Timeline,
    abort_reason,
    baseline_problem,
    evaluate,
    relative_probes,
)
from backend.spec.experiment import AbortCondition, Tolerance

DT = 0.2
TL = Timeline(start=0, fault_start=30, fault_end=40, end=60, hold=3)


def series(fn, until: float = 60, start: float = 0) -> list[Sample]:
    n = round((until - start) / DT)
    return [
        Sample(t, *fn(t), requests=20) for t in (round(start + i * DT, 6) for i in range(n + 1))
    ]


def dip(t: float) -> tuple[float, float]:
    if 31 <= t < 36:
        return 50.0, 0.2
    return 100.0, 0.0


def outage(t: float) -> tuple[float, float]:
    """No QPS at all from 31 s to the end: the service never comes back."""
    return (0.0, 1.0) if t >= 31 else (100.0, 0.0)


def tol(**kw: object) -> Tolerance:
    return Tolerance.model_validate({"probe": "web", **kw})


def judge(fn, *tols: Tolerance):
    results, outcomes = evaluate(list(tols), {"web": series(fn)}, TL)
    return results["web"], outcomes


def test_metrics_of_a_dip() -> None:
    res, _ = judge(dip)
    m = res.metrics
    assert res.baseline.median == pytest.approx(100)
    assert m.min_qps == pytest.approx(50)
    assert m.dip_depth_pct == pytest.approx(50)
    assert m.time_to_impact == pytest.approx(1.2, abs=0.25)  # the 1 s mean crosses 95 at ~31.2 s
    # QPS is back at 36 s (the interval ending at 36.0 s is the first good one); the 1 s mean
    # only reaches 90 QPS at ~36.8 s, the raw intervals sharpen that back to ~6 s from start.
    assert m.time_to_recover_from_start == pytest.approx(6.0, abs=0.25)
    assert m.time_to_recover_from_end == 0
    assert res.error_rate_during_fault == pytest.approx(0.1, abs=0.01)  # 5 s of 10 at 20 %


def test_canonical_hypothesis_passes_and_fails_on_threshold() -> None:
    _, [ok, tight] = judge(
        dip,
        tol(recoverTo=90, within="60s", **{"from": "faultStart"}),
        tol(recoverTo=90, within="5s", **{"from": "faultStart"}),
    )
    assert ok.passed and ok.observed in ("recovered after 5.8s", "recovered after 6.0s")
    assert not tight.passed and tight.expected == "<= 5s"


def test_relative_bound_during_the_fault() -> None:
    _, [half, most] = judge(
        dip, tol(atLeastPercentOfBaseline=45), tol(maxDropPercent=20, during="fault")
    )
    assert half.passed and half.observed == "worst 50"
    assert not most.passed and most.expected.startswith(">= 80 ")


def test_error_rate_after_recovery_and_whole_window() -> None:
    _, [after, whole] = judge(
        dip,
        tol(metric="errorRate", atMost=0.01, during="afterRecovery"),
        tol(metric="errorRate", atMost=0.01, during="whole"),
    )
    assert after.passed  # the smoothed tail of the dip leaves a trace well under 1 %
    assert not whole.passed


def test_outage_fails_every_recovery_criterion() -> None:
    res, [rec, after] = judge(
        outage,
        tol(recoverTo=90, within="60s"),
        tol(metric="errorRate", atMost=0.5, during="afterRecovery"),
    )
    assert res.metrics.min_qps == 0 and res.metrics.dip_depth_pct == 100
    assert not rec.passed and rec.observed == "never recovered"
    assert not after.passed and after.observed == "never recovered"


def test_absolute_and_latency_bounds() -> None:
    def slow(t: float) -> tuple[float, float, float, float]:
        return 100.0, 0.0, 5.0, (80.0 if 30 <= t < 40 else 10.0)

    samples = series(slow)
    tols = [
        tol(metric="latencyP99", atMostPercentOfBaseline=300),
        tol(metric="latencyP99", atMost=100),
        tol(metric="qps", atLeast=99),
    ]
    _, [rel, absolute, qps] = evaluate(tols, {"web": samples}, TL)
    assert not rel.passed and rel.observed == "worst 80"
    assert absolute.passed and qps.passed


def test_silent_probe_has_no_baseline() -> None:
    with pytest.raises(NoBaseline):
        evaluate([], {"web": series(dip, start=35)}, TL)


def test_abort_fires_only_after_holding_for_its_duration() -> None:
    cond = AbortCondition.model_validate({"probe": "web", "belowPercent": 20, "for": "2s"})
    full = series(outage)
    base = {"web": 100.0}
    # At 32 s the 1 s mean has been below 20 QPS for only ~0.2 s: no abort yet.
    early = [s for s in full if s.t <= 32.0]
    assert abort_reason([cond], {"web": early}, base, since=30) is None
    late = [s for s in full if s.t <= 35.0]
    reason = abort_reason([cond], {"web": late}, base, since=30)
    assert reason is not None and reason.startswith("web qps below 20% of baseline")


def test_abort_on_error_rate_and_not_on_a_dip_that_passed() -> None:
    errors = AbortCondition.model_validate({"probe": "web", "errorRateAbove": 0.5})
    assert abort_reason([errors], {"web": series(outage, until=33)}, {}, since=30)
    # The dip ended before the latest sample: a condition that no longer holds does not abort.
    below = AbortCondition.model_validate({"probe": "web", "belowPercent": 60})
    assert abort_reason([below], {"web": series(dip, until=45)}, {"web": 100.0}, since=30) is None


def test_smoothing_hides_one_empty_interval_but_not_an_outage() -> None:
    blip = [Sample(i * DT, 0.0 if i == 50 else 100.0) for i in range(100)]
    assert min(s.qps for s in smooth(blip, 1.0)) == pytest.approx(80)
    assert smooth(series(outage), 1.0)[-1].qps == 0


def test_noise_around_the_threshold_does_not_postpone_recovery() -> None:
    """Raw QPS is 100 +- 25 (Gaussian, fixed seed): even the 1 s means dip under the 90 % line
    now and then, yet the service is back at its baseline from 36 s."""
    rng = random.Random(7)
    samples = [
        Sample(t, 20.0 if 31 <= t < 36 else max(0.0, rng.gauss(100, 25)), requests=20)
        for t in (round(i * DT, 6) for i in range(301))
    ]
    smoothed = smooth(samples, 1.0)
    assert any(s.qps < 90 for s in smoothed if s.t > 37)  # the noise really crosses the line
    results, [rec] = evaluate(
        [tol(recoverTo=90, within="10s", **{"from": "faultStart"})], {"web": samples}, TL
    )
    assert 5.5 <= results["web"].metrics.time_to_recover_from_start <= 8
    assert rec.passed


def test_a_baseline_with_stalls_still_sees_an_outage() -> None:
    """The client stalls for 1.4 s every 10 s of the baseline, so the noise band reaches 0;
    a 5 s outage must still count as a dip with a real time-to-recover."""

    def stalls(t: float) -> tuple[float, float]:
        if 31 <= t < 36:
            return 0.0, 1.0
        return (0.0 if t % 10 < 1.4 and t < 30 else 100.0), 0.0

    res, [rec] = judge(stalls, tol(recoverTo=90, within="3s", **{"from": "faultStart"}))
    assert res.baseline.low == 0
    assert 5.5 <= res.metrics.time_to_recover_from_start <= 7.5
    assert not rec.passed


def step_down(t: float, length: float) -> tuple[float, float]:
    """Refused for exactly `length` s from fault start: every interval that ends inside
    (30, 30 + length] holds no success."""
    return (0.0, 1.0) if 30 < t <= 30 + length + 1e-9 else (100.0, 0.0)


@pytest.mark.parametrize("length", [2.0, 5.0, 8.4])
def test_time_to_recover_of_a_step_is_not_late_by_the_smoothing(length: float) -> None:
    res, [after] = judge(
        lambda t: step_down(t, length),
        tol(metric="errorRate", atMost=0.01, during="afterRecovery"),
    )
    assert res.metrics.time_to_recover_from_start == pytest.approx(length, abs=0.21)
    # afterRecovery windows start where the smoothed series settled, so the 1 s mean that still
    # averages in the outage's last errors is not judged as "after recovery".
    assert res.settled_at is not None and res.settled_at > res.metrics.recovered_at
    assert after.passed, after


def test_sharpening_ignores_one_noisy_interval_but_not_the_outage() -> None:
    rng = random.Random(7)

    def noisy(t: float) -> tuple[float, float]:
        if 30 < t <= 34 + 1e-9:
            return 0.0, 1.0
        return 100.0 + rng.uniform(-8, 8) - (25.0 if abs(t - 34.6) < 1e-6 else 0.0), 0.0

    res, _ = judge(noisy)
    assert res.metrics.time_to_recover_from_start == pytest.approx(4.0, abs=0.21)


def test_a_baseline_where_every_request_failed_cannot_be_judged() -> None:
    """100 % errors from the start: before this rule `recoverTo` passed at once (0 >= 90 % of 0)."""
    samples = series(lambda t: (0.0, 1.0))
    with pytest.raises(NoBaseline) as e:
        evaluate([tol(recoverTo=90, within="5s")], {"web": samples}, TL)
    assert str(e.value).startswith("probe web had no successful request during the baseline: ")
    assert "error rate 100%" in str(e.value) and "150 samples" in str(e.value)


def test_a_baseline_with_no_finished_request_cannot_be_judged() -> None:
    """QPS 0 with no errors either (every request hung): still nothing to compare against."""
    samples = [Sample(s.t, 0.0, 0.0, requests=0) for s in series(dip)]
    with pytest.raises(NoBaseline, match=r"^probe web had no successful request during the"):
        evaluate([tol(metric="qps", atLeastPercentOfBaseline=80)], {"web": samples}, TL)


def test_a_baseline_that_is_mostly_zero_cannot_be_judged() -> None:
    """A success now and then, but the baseline median is 0 QPS."""

    def rare(t: float) -> tuple[float, float]:
        return (5.0, 0.0) if round(t / DT) % 25 == 0 else (0.0, 1.0)

    assert baseline_problem("web", series(rare), 0, 30) == (
        "probe web had a baseline QPS of 0: only 6 of 150 samples had a successful request; "
        "the hypothesis cannot be judged against a zero baseline"
    )


def test_one_zero_probe_is_enough_and_a_healthy_one_has_no_problem() -> None:
    assert baseline_problem("web", series(dip), 0, 30) is None
    assert baseline_problem("web", series(dip), 31, 36) is None  # 50 QPS at 20 % errors
    assert baseline_problem("web", [], 0, 30) == (
        "probe web had no successful request during the baseline: no samples in its 30s"
    )
    probes = {"web": series(dip), "api": series(lambda t: (0.0, 1.0))}
    with pytest.raises(NoBaseline, match=r"^probe api had no successful request"):
        evaluate([tol(recoverTo=90, within="5s"), tol(probe="api", maxDropPercent=50)], probes, TL)


def test_a_metric_that_is_zero_with_absolute_bounds_is_judged() -> None:
    """An error counter from Prometheus is 0 in a healthy baseline: with absolute bounds there
    is nothing relative to a zero baseline, so the run is judged, not an Error."""
    errors = series(lambda t: (3.0, 0.0) if 31 <= t < 33 else (0.0, 0.0))
    assert relative_probes([tol(probe="errors", atMost=1)]) == set()
    assert relative_probes(
        [tol(maxDropPercent=50), tol(probe="x", metric="errorRate", atMostPercentOfBaseline=200)]
    ) == {"web"}
    _, outcomes = evaluate([tol(probe="errors", atMost=1)], {"errors": errors}, TL)
    assert [o.passed for o in outcomes] == [False]  # a burst of 3 in the fault breaks atMost 1
    _, outcomes = evaluate([tol(probe="errors", atMost=5)], {"errors": errors}, TL)
    assert [o.passed for o in outcomes] == [True]
