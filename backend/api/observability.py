"""Request metrics (Prometheus) and structured JSON logs.

Metrics are labelled with the route template (/api/v1/runs/{run_id}), never the raw path, so a
scrape stays small however many runs exist. Each app owns its registry so tests can build many.
"""

from __future__ import annotations

import logging
import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.logs import JsonFormatter
from backend.settings import Settings

access_log = logging.getLogger("faultline.api.access")


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    if settings.log_json:
        handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("faultline")
    logger.handlers[:] = [handler]
    logger.setLevel(settings.log_level)
    logger.propagate = False


class RequestMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "faultline_api_requests",
            "HTTP requests handled by the dashboard API",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "faultline_api_request_duration_seconds",
            "Time to handle an HTTP request",
            ["method", "route"],
            registry=registry,
        )


class MetricsMiddleware:
    """Pure ASGI middleware (no per-request task) that counts, times and logs every request."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        recorded = False
        start = time.perf_counter()

        def record() -> None:
            nonlocal recorded
            recorded = True
            elapsed = time.perf_counter() - start
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            principal = getattr(scope.get("state", {}).get("principal"), "name", None)
            access_log.info(
                "%s %s %s", method, scope["path"], status,
                extra={"method": method, "route": route, "status": status,
                       "duration_ms": round(elapsed * 1000, 2), "principal": principal},
            )  # fmt: skip

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Before the last byte leaves: whoever got the response can already see it counted.
                record()
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            if not recorded:
                record()
