"""coordination.k8s.io Leases, as the operator's leader election reads and writes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from kubernetes import client

from backend.clients.kube.errors import NotFound, Op

if TYPE_CHECKING:
    from backend.clients.kube.client import Kube


@dataclass
class Lease:
    name: str
    namespace: str
    holder: str | None = None
    duration_seconds: int | None = None
    acquired: datetime | None = None
    renewed: datetime | None = None
    transitions: int = 0
    resource_version: str | None = None
    """The version read; `replace` succeeds only while it is still the current one."""


def _body(lease: Lease) -> client.V1Lease:
    return client.V1Lease(
        metadata=client.V1ObjectMeta(
            name=lease.name, namespace=lease.namespace, resource_version=lease.resource_version
        ),
        spec=client.V1LeaseSpec(
            holder_identity=lease.holder,
            lease_duration_seconds=lease.duration_seconds,
            acquire_time=lease.acquired,
            renew_time=lease.renewed,
            lease_transitions=lease.transitions,
        ),
    )


class Leases:
    def __init__(self, kube: Kube) -> None:
        self._kube = kube

    def _api(self) -> client.CoordinationV1Api:
        return client.CoordinationV1Api(self._kube.api)

    def read(self, namespace: str, name: str) -> Lease | None:
        """The Lease, or None when there is none yet."""
        op = Op("get", "leases.coordination.k8s.io", f"Lease {namespace}/{name}")
        try:
            found = self._kube.call(op, self._api().read_namespaced_lease, name, namespace)
        except NotFound:
            return None
        spec = found.spec or client.V1LeaseSpec()
        return Lease(
            name,
            namespace,
            holder=spec.holder_identity,
            duration_seconds=spec.lease_duration_seconds,
            acquired=spec.acquire_time,
            renewed=spec.renew_time,
            transitions=spec.lease_transitions or 0,
            resource_version=found.metadata.resource_version if found.metadata else None,
        )

    def create(self, lease: Lease) -> None:
        """AlreadyExists when another replica created it first."""
        op = Op("create", "leases.coordination.k8s.io", f"Lease {lease.namespace}/{lease.name}")
        self._kube.call(op, self._api().create_namespaced_lease, lease.namespace, _body(lease))

    def replace(self, lease: Lease) -> None:
        """A compare-and-swap on `lease.resource_version`: Conflict when someone wrote first."""
        op = Op("update", "leases.coordination.k8s.io", f"Lease {lease.namespace}/{lease.name}")
        self._kube.call(
            op, self._api().replace_namespaced_lease, lease.name, lease.namespace, _body(lease)
        )
