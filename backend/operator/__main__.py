"""`python -m backend.operator`: run the operator against the cluster in KUBECONFIG/in-cluster.

With FAULTLINE_LEADER_ELECTION=true (the chart's default) only the Lease holder runs handlers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import kopf

from backend.operator import handlers  # noqa: F401  (registers the handlers)
from backend.operator.leader import LeaderElector, LeaseConfig


class _Healthy(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"waiting for the leader lease\n")

    def log_message(self, *args: object) -> None:
        pass


def _follower_health(listen: str) -> HTTPServer:
    """Answer liveness probes while waiting for the Lease (kopf serves them once leading)."""
    host, port = listen.rsplit(":", 1)
    server = HTTPServer((host, int(port)), _Healthy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("FAULTLINE_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    listen = os.environ.get("FAULTLINE_HEALTH_LISTEN", "0.0.0.0:8081")
    if os.environ.get("FAULTLINE_LEADER_ELECTION", "false").lower() == "true":
        health = _follower_health(listen)
        elector = LeaderElector(LeaseConfig.from_env())
        elector.acquire()
        health.shutdown()
        health.server_close()
        elector.keep()
    # FAULTLINE_WATCH_NAMESPACES=a,b: handle only those namespaces' chaos objects (two releases
    # in one cluster, or a test's own operator, must not act on each other's objects).
    watched = [n for n in os.environ.get("FAULTLINE_WATCH_NAMESPACES", "").split(",") if n]
    asyncio.run(
        kopf.operator(
            clusterwide=not watched,
            namespaces=watched,
            standalone=True,
            liveness_endpoint=f"http://{listen}/healthz",
        )
    )


if __name__ == "__main__":
    main()
