"""Pure downsampling maths (no database)."""

from __future__ import annotations

import pytest

from backend.db.downsampling import Point, bucket_start, downsample, merge_bucket


def test_bucket_start_aligns_down() -> None:
    assert bucket_start(1009.99, 10) == 1000
    assert bucket_start(1010.0, 10) == 1010
    assert bucket_start(5.0, 60) == 0


def test_points_fall_into_half_open_buckets() -> None:
    points = [Point(ts=t, qps=1) for t in (100.0, 104.5, 109.999, 110.0, 131.0)]
    merged = downsample(points, 10)
    assert [p.ts for p in merged] == [100, 110, 130]


def test_qps_is_the_mean_error_rate_is_weighted_by_qps() -> None:
    points = [
        Point(ts=0, qps=90, error_rate=0.0),
        Point(ts=1, qps=10, error_rate=0.5),
    ]
    (bucket,) = downsample(points, 10)
    assert bucket.qps == 50
    # 5 failed of 100 requests: 5 %, not the unweighted 25 %.
    assert bucket.error_rate == pytest.approx(0.05)


def test_p50_is_weighted_mean_p99_is_max() -> None:
    points = [
        Point(ts=0, qps=30, latency_p50_ms=10, latency_p99_ms=40),
        Point(ts=1, qps=10, latency_p50_ms=30, latency_p99_ms=900),
    ]
    (bucket,) = downsample(points, 10)
    assert bucket.latency_p50_ms == pytest.approx(15)
    assert bucket.latency_p99_ms == 900


def test_missing_values_are_ignored_and_all_missing_stays_missing() -> None:
    points = [Point(ts=0, qps=5, error_rate=None), Point(ts=1, qps=5, error_rate=0.2)]
    (bucket,) = downsample(points, 10)
    assert bucket.error_rate == pytest.approx(0.2)
    assert bucket.latency_p50_ms is None and bucket.latency_p99_ms is None


def test_zero_traffic_falls_back_to_plain_mean() -> None:
    bucket = merge_bucket(0, [Point(0, 0, error_rate=1.0), Point(1, 0, error_rate=0.0)])
    assert bucket.qps == 0 and bucket.error_rate == pytest.approx(0.5)


def test_bad_bucket_width_is_named() -> None:
    with pytest.raises(ValueError, match="bucket_seconds: must be positive"):
        downsample([Point(0, 1)], 0)
    with pytest.raises(ValueError, match="points: a bucket needs at least one point"):
        merge_bucket(0, [])
