"""Prometheus metrics of the operator: what it injected, recovered and failed, and how fast.

Served on FAULTLINE_METRICS_LISTEN (default 0.0.0.0:8082) so a cluster's Prometheus can alert on
failed recoveries and watch apply latency without reading every object's status.
"""

from __future__ import annotations

import logging
import threading

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import start_http_server as _serve

registry: CollectorRegistry = REGISTRY

INJECTIONS = Counter(
    "faultline_injections_total", "Faults applied to a target.", ["kind"], registry=registry
)
RECOVERIES = Counter(
    "faultline_recoveries_total", "Faults withdrawn from a target.", ["kind"], registry=registry
)
FAILURES = Counter(
    "faultline_failures_total",
    "Failed attempts to apply or recover a fault on a target.",
    ["kind"],
    registry=registry,
)
APPLY_SECONDS = Histogram(
    "faultline_apply_seconds",
    "Time of a reconcile that applied faults (select targets, push to chaosd, verify).",
    ["kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
    registry=registry,
)
OBJECTS = Gauge(
    "faultline_chaos_objects", "Chaos objects by kind and phase.", ["kind", "phase"],
    registry=registry,
)  # fmt: skip

_lock = threading.Lock()
_phases: dict[str, tuple[str, str]] = {}
"""object uid -> (kind, phase): the gauge is recomputed from it so deleted objects drop out."""


def record_event(kind: str, event_type: str) -> None:
    if event_type == "Applied":
        INJECTIONS.labels(kind).inc()
    elif event_type == "Recovered":
        RECOVERIES.labels(kind).inc()
    elif event_type == "Failed":
        FAILURES.labels(kind).inc()


def set_phase(uid: str, kind: str, phase: str | None) -> None:
    """Track an object's phase; None forgets the object (deleted)."""
    with _lock:
        before = _phases.get(uid)
        if phase is None:
            _phases.pop(uid, None)
        else:
            _phases[uid] = (kind, phase)
        if before is not None:
            OBJECTS.labels(*before).set(sum(v == before for v in _phases.values()))
        if phase is not None:
            OBJECTS.labels(kind, phase).set(sum(v == (kind, phase) for v in _phases.values()))


def serve(listen: str) -> bool:
    """Start the endpoint; False (logged) when the address is taken: metrics are not worth
    refusing to recover faults over."""
    host, port = listen.rsplit(":", 1)
    try:
        _serve(int(port), addr=host, registry=registry)
    except OSError as e:
        logging.getLogger("faultline.operator.metrics").error(
            "metrics endpoint %s not started: %s", listen, e
        )
        return False
    return True
