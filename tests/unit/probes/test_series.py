"""Per-interval aggregation of request outcomes."""

import pytest

from backend.probes.series import IntervalAggregator, percentile


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile([], 50) is None


def test_intervals_count_successes_and_errors() -> None:
    agg = IntervalAggregator(start=1000.0, interval=0.5)
    for i in range(10):  # first interval: 10 ok at 10 ms
        agg.record(1000.0 + i * 0.04, True, 0.010)
    for i in range(4):  # second interval: 2 ok, 2 failed
        agg.record(1000.6 + i * 0.05, i % 2 == 0, 0.020)
    obs = agg.close_until(1001.5)  # third interval is empty
    assert [o.requests for o in obs] == [10, 4, 0]
    assert obs[0].qps == pytest.approx(20)
    assert obs[0].latency_p50_ms == pytest.approx(10)
    assert obs[1].qps == pytest.approx(4)
    assert obs[1].error_rate == pytest.approx(0.5)
    assert obs[2].qps == 0 and obs[2].latency_p99_ms is None
    assert obs[0].ts == pytest.approx(1000.5)


def test_closing_is_incremental_and_stragglers_are_kept() -> None:
    agg = IntervalAggregator(start=0.0, interval=1.0)
    agg.record(0.5, True, 0.001)
    assert len(agg.close_until(1.2)) == 1
    assert agg.close_until(1.2) == []
    agg.record(0.9, True, 0.001)  # finished in a closed interval, reported late
    obs = agg.close_until(2.0)
    assert obs[0].requests == 1


def test_intervals_the_probe_was_stalled_through_are_left_out() -> None:
    from backend.probes.load import LoadConfig, without_stall
    from backend.probes.series import Observation

    cfg = LoadConfig(url="http://svc/", interval=0.2)
    obs = [Observation(10.0 + 0.2 * i, 0.0, 0.0, None, None, 0) for i in range(1, 6)]
    # On time (lag within half an interval): everything is kept, zero QPS included.
    assert without_stall(obs, 10.0, 0.05, cfg) == obs
    # Woke 0.9 s late after sleeping from 10.35: the intervals ending at 10.6 and later were
    # mostly inside the stall (their midpoints are past its start).
    kept = without_stall(obs, 10.35, 0.9, cfg)
    assert [round(o.ts, 1) for o in kept] == [10.2, 10.4]
