"""Recovery metrics on synthetic series whose answers are known by construction."""

import pytest

from backend.domain.recovery import Sample, baseline_of, recovery_metrics

DT = 0.2  # 5 samples per second, as the load probe records


def series(fn, until: float) -> list[Sample]:
    n = round(until / DT)
    return [Sample(round(i * DT, 6), *fn(round(i * DT, 6))) for i in range(n + 1)]


def canonical(t: float) -> tuple[float, float]:
    """100 QPS; fault at 30 s drops it to 60 (errors 10%) until 45 s, then back to 100."""
    if 30 <= t < 45:
        return 60.0, 0.1
    return 100.0, 0.0


def test_baseline_median_and_band() -> None:
    b = baseline_of(series(canonical, 60), 0, 30)
    assert b.median == 100
    assert b.low == pytest.approx(95)  # flat series: the 5 % minimum band
    assert b.samples == 150


def test_baseline_band_follows_noise() -> None:
    noisy = [Sample(i * DT, 100.0 + (20 if i % 2 else -20)) for i in range(150)]
    b = baseline_of(noisy, 0, 30)
    assert b.median == pytest.approx(100)
    assert b.low <= 80  # a +-20 oscillation must not read as a dip
    skewed = [Sample(i * DT, 120.0 if i % 3 else 80.0) for i in range(150)]
    assert baseline_of(skewed, 0, 30).low <= 80  # MAD is 0 here; the percentiles still count


def test_empty_baseline_window_is_an_error() -> None:
    with pytest.raises(ValueError, match="baseline window"):
        baseline_of(series(canonical, 10), 20, 30)


def test_canonical_dip_and_recovery() -> None:
    s = series(canonical, 90)
    m = recovery_metrics(
        s, baseline=baseline_of(s, 0, 30), fault_start=30, fault_end=40, recover_ratio=0.9, hold=3
    )
    assert m.min_qps == 60
    assert m.dip_depth_pct == pytest.approx(40)
    assert m.time_to_impact == pytest.approx(0)
    assert m.dip_duration == pytest.approx(15, abs=DT)
    assert m.recovered_at == pytest.approx(45)
    assert m.time_to_recover_from_start == pytest.approx(15)
    assert m.time_to_recover_from_end == pytest.approx(5)
    assert m.lost_requests == pytest.approx(40 * 15, rel=0.02)
    assert m.failed_requests == pytest.approx(6 * 15, rel=0.02)


def test_delayed_impact() -> None:
    s = series(lambda t: (20.0, 0.0) if 33 <= t < 50 else (100.0, 0.0), 90)
    m = recovery_metrics(s, baseline=baseline_of(s, 0, 30), fault_start=30, fault_end=35)
    assert m.time_to_impact == pytest.approx(3)
    assert m.time_to_recover_from_start == pytest.approx(20)


def test_a_lucky_sample_is_not_a_recovery() -> None:
    def fn(t: float) -> tuple[float, float]:
        if 30 <= t < 60 and abs(t - 40) > 0.01:
            return 10.0, 0.0
        return 100.0, 0.0

    s = series(fn, 90)
    m = recovery_metrics(s, baseline=baseline_of(s, 0, 30), fault_start=30, fault_end=35, hold=3)
    assert m.recovered_at == pytest.approx(60)


def test_never_recovers() -> None:
    s = series(lambda t: (100.0, 0.0) if t < 30 else (50.0, 0.0), 90)
    m = recovery_metrics(s, baseline=baseline_of(s, 0, 30), fault_start=30, fault_end=40)
    assert m.recovered_at is None
    assert m.time_to_recover_from_start is None
    assert m.dip_depth_pct == pytest.approx(50)


def test_no_impact_means_zero_time_to_recover() -> None:
    s = series(lambda t: (100.0, 0.0), 60)
    m = recovery_metrics(s, baseline=baseline_of(s, 0, 30), fault_start=30, fault_end=40)
    assert m.time_to_impact is None
    assert m.dip_depth_pct == 0
    assert m.time_to_recover_from_start == 0
    assert m.lost_requests == 0


def test_partial_recovery_below_ratio_does_not_count() -> None:
    s = series(lambda t: (100.0, 0.0) if t < 30 else ((20.0, 0.0) if t < 40 else (85.0, 0.0)), 90)
    m = recovery_metrics(
        s, baseline=baseline_of(s, 0, 30), fault_start=30, fault_end=35, recover_ratio=0.9
    )
    assert m.recovered_at is None
    m2 = recovery_metrics(
        s, baseline=baseline_of(s, 0, 30), fault_start=30, fault_end=35, recover_ratio=0.8
    )
    assert m2.recovered_at == pytest.approx(40)
