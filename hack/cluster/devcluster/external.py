"""Use a cluster someone already has (kind, a CI cluster) instead of starting our own.

When KUBECONFIG names a reachable cluster that is not the dev cluster, the tooling and the e2e
tests use it as it is: nothing is built, started or torn down.
"""

from __future__ import annotations

import os
from pathlib import Path

from devcluster.settings import Settings


def server_version(kubeconfig: Path) -> str | None:
    """The cluster's gitVersion, or None when it cannot be reached with this kubeconfig."""
    from kubernetes import client, config

    try:
        api = config.new_client_from_config(config_file=str(kubeconfig))  # type: ignore[no-untyped-call]
        api.configuration.retries = 0
        try:
            info = client.VersionApi(api).get_code(_request_timeout=5)
            return str(info.git_version)
        finally:
            api.close()
    except Exception:  # any failure to load or reach it means "not usable"
        return None


def external_kubeconfig(s: Settings) -> Path | None:
    """The user's KUBECONFIG if it points at a reachable cluster other than ours."""
    value = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.exists() or path.resolve() == s.admin_kubeconfig.resolve():
        return None
    return path if server_version(path) else None
