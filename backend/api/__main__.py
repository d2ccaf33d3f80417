"""`python -m backend.api`: serve the dashboard with uvicorn, configured from FAULTLINE_* variables.

This is the dashboard container's command in the Helm chart. FAULTLINE_LISTEN (host:port, default
127.0.0.1:8080) says where to listen; every other variable is read by `Settings.from_env`. In
cluster mode the chaos endpoints write through the Kubernetes API with the pod's credentials.
"""

from __future__ import annotations

import os
import sys

import uvicorn

from backend.api.app import create_app
from backend.settings import Settings, SettingsError


def _listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(f"FAULTLINE_LISTEN: {value!r} is not host:port")
    return host.strip("[]"), int(port)


def main() -> None:
    try:
        settings = Settings.from_env()
        host, port = _listen(os.environ.get("FAULTLINE_LISTEN", "127.0.0.1:8080"))
    except SettingsError as e:
        sys.exit(f"faultline dashboard: {e}")
    app = create_app(settings)
    # The app configures the faultline loggers itself; uvicorn keeps only its own access log off.
    uvicorn.run(app, host=host, port=port, access_log=False, log_config=None)


if __name__ == "__main__":
    main()
