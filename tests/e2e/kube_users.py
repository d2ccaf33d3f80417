"""A kubeconfig that acts as a ServiceAccount, for tests that run a tool as a less trusted user."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def service_account_kubeconfig(cluster: Any, ns: str, name: str, path: Path) -> Path:
    """A token for ServiceAccount `ns/name` (which must exist), in a kubeconfig at `path` for
    the test cluster's API server."""
    token = cluster.kubectl("-n", ns, "create", "token", name).strip()
    admin = json.loads(cluster.kubectl("config", "view", "--raw", "--minify", "-o", "json"))
    path.write_text(
        json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": name,
            "clusters": [{"name": "c", "cluster": admin["clusters"][0]["cluster"]}],
            "users": [{"name": name, "user": {"token": token}}],
            "contexts": [{"name": name, "context": {"cluster": "c", "user": name}}],
        })
    )  # fmt: skip
    return path
