"""How the dashboard writes chaos objects: always through the cluster, never into the mirror.

Routes call a `ClusterGateway`; the operator side provides a Kubernetes implementation. Without a
cluster the default gateway refuses with 503 and says why: pretending a write succeeded would
show users an experiment that never runs.
"""

from __future__ import annotations

from typing import Any, Protocol

from backend.api.errors import ClusterUnavailable


class ClusterGateway(Protocol):
    def create(self, kind: str, namespace: str, name: str, spec: dict[str, Any]) -> str:
        """Creates the custom resource and returns its uid."""

    def set_paused(self, kind: str, namespace: str, name: str, paused: bool) -> None:
        """Sets or clears the chaos.faultline.dev/pause annotation."""

    def delete(self, kind: str, namespace: str, name: str) -> None:
        """Deletes the custom resource (the operator recovers the fault first)."""


class NoClusterGateway:
    """The gateway of local mode: every write explains that a cluster is needed."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def _refuse(self, action: str, kind: str, namespace: str, name: str) -> ClusterUnavailable:
        return ClusterUnavailable(
            f"cannot {action} {kind} {namespace}/{name}: no Kubernetes cluster is connected "
            f"({self.reason}); chaos objects are written to the cluster, so start the dashboard "
            "in cluster mode (FAULTLINE_MODE=cluster) or use `kubectl apply` / `kubectl delete`"
        )

    def create(self, kind: str, namespace: str, name: str, spec: dict[str, Any]) -> str:
        raise self._refuse("create", kind, namespace, name)

    def set_paused(self, kind: str, namespace: str, name: str, paused: bool) -> None:
        raise self._refuse("pause" if paused else "resume", kind, namespace, name)

    def delete(self, kind: str, namespace: str, name: str) -> None:
        raise self._refuse("delete", kind, namespace, name)
