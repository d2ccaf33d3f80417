"""`python -m backend.admission`: serve the admission webhook over TLS (the chart's webhook pod).

Configured from the environment the chart sets:
FAULTLINE_WEBHOOK_LISTEN (host:port, default 0.0.0.0:9443), FAULTLINE_WEBHOOK_TLS_CERT_FILE and
FAULTLINE_WEBHOOK_TLS_KEY_FILE (the serving pair the API server verifies with the caBundle),
FAULTLINE_WEBHOOK_TRUSTED_USERS (comma-separated: this release's operator and dashboard
ServiceAccounts, whose copied creator records are kept), FAULTLINE_KILLSWITCH_NAMESPACE (where the
emergency stop's ConfigMap lives), the operator's target limits (FAULTLINE_PROTECTED_NAMESPACES,
FAULTLINE_ALLOW_PROTECTED_NAMESPACES, FAULTLINE_TARGET_NAMESPACES), FAULTLINE_LOG_LEVEL and
FAULTLINE_LOG_JSON.
"""

from __future__ import annotations

import logging
import os
import sys

import uvicorn

from backend.admission.server import Webhook, create_app
from backend.clients.kube.client import shared
from backend.domain.limits import TargetLimits
from backend.logs import JsonFormatter
from backend.spec.creator import Creator
from backend.spec.emergency import KILLSWITCH_NAME, EmergencyStop
from backend.spec.kinds import GROUP


def _stopped(namespace: str) -> str | None:
    """Why new objects are refused, while the emergency stop is engaged. An API error is raised,
    so the review fails closed rather than admitting during a stop it could not read."""
    stop = EmergencyStop.from_data(shared().core.config_map(namespace, KILLSWITCH_NAME))
    if not stop.engaged:
        return None
    return stop.refusal(
        f"no new chaos objects are admitted (ConfigMap {namespace}/{KILLSWITCH_NAME})"
    )


def _may(user: Creator, plural: str, namespace: str) -> bool:
    allowed, _ = shared().reviews.access(user, "create", GROUP, plural, namespace)
    return allowed


def main() -> None:
    env = os.environ
    host, _, port = env.get("FAULTLINE_WEBHOOK_LISTEN", "0.0.0.0:9443").rpartition(":")
    cert, key = (
        env.get("FAULTLINE_WEBHOOK_TLS_CERT_FILE"),
        env.get("FAULTLINE_WEBHOOK_TLS_KEY_FILE"),
    )
    namespace = env.get("FAULTLINE_KILLSWITCH_NAMESPACE", "")
    if not (port.isdigit() and cert and key and namespace):
        sys.exit(
            "faultline webhook: FAULTLINE_WEBHOOK_LISTEN (host:port), "
            "FAULTLINE_WEBHOOK_TLS_CERT_FILE, FAULTLINE_WEBHOOK_TLS_KEY_FILE and "
            "FAULTLINE_KILLSWITCH_NAMESPACE are required"
        )
    handler = logging.StreamHandler()
    if env.get("FAULTLINE_LOG_JSON", "").lower() == "true":
        handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("faultline")
    logger.handlers[:] = [handler]
    logger.setLevel(env.get("FAULTLINE_LOG_LEVEL", "INFO").upper())
    logger.propagate = False
    trusted = frozenset(u for u in env.get("FAULTLINE_WEBHOOK_TRUSTED_USERS", "").split(",") if u)
    limits = TargetLimits.from_env(env)
    app = create_app(Webhook(trusted, _may, lambda: _stopped(namespace), limits))
    uvicorn.run(
        app, host=host.strip("[]"), port=int(port), ssl_certfile=cert, ssl_keyfile=key,
        access_log=False, log_config=None,
    )  # fmt: skip


if __name__ == "__main__":
    main()
