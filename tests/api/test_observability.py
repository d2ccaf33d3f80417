"""Prometheus metrics per route template and one JSON object per log line."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from backend.logs import JsonFormatter


def test_metrics_count_requests_by_route_template(client: httpx.Client) -> None:
    for run_id in (1, 2, 3):
        assert client.get(f"/api/v1/runs/{run_id}").status_code == 404
    client.get("/api/v1/experiments")
    text = client.get("/metrics").text
    assert (
        'faultline_api_requests_total{method="GET",route="/api/v1/runs/{run_id}",status="404"} 3.0'
        in text
    )
    assert (
        'faultline_api_requests_total{method="GET",route="/api/v1/experiments",status="200"} 1.0'
        in text
    )
    latency = (
        'faultline_api_request_duration_seconds_count{method="GET",route="/api/v1/runs/{run_id}"}'
    )
    assert f"{latency} 3.0" in text


def test_access_log_is_json(client: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("faultline.api.access")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger="faultline.api.access"):
            client.get("/api/v1/experiments", params={"namespace": "shop"})
    finally:
        logger.removeHandler(caplog.handler)
    records = [r for r in caplog.records if r.name == "faultline.api.access"]
    line = json.loads(JsonFormatter().format(records[-1]))
    assert line["logger"] == "faultline.api.access"
    assert line["method"] == "GET" and line["status"] == 200
    assert line["route"] == "/api/v1/experiments" and line["principal"] == "admin"
    assert line["duration_ms"] >= 0
