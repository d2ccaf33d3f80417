"""`python -m backend.operator`: run the operator against the cluster in KUBECONFIG/in-cluster."""

from __future__ import annotations

import asyncio
import logging

import kopf

from backend.operator import handlers  # noqa: F401  (registers the handlers)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(
        kopf.operator(
            clusterwide=True,
            standalone=True,
            liveness_endpoint="http://0.0.0.0:8081/healthz",
        )
    )


if __name__ == "__main__":
    main()
