"""Leader election on a coordination.k8s.io Lease: of the operator's replicas, one acts.

The others wait to take the Lease over when its holder stops renewing. A leader that cannot
renew within the renew deadline exits the process (the kubelet restarts it as a follower)
rather than risk two operators pushing fault sets at once. Faults stay safe during the hand-over:
chaosd keeps them until their lease lapses, and the new leader renews them on its first tick.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from backend.clients.kube import api_client

log = logging.getLogger("faultline.operator.leader")


@dataclass(frozen=True)
class LeaseConfig:
    name: str
    namespace: str
    identity: str
    duration: float = 15
    renew_deadline: float = 10
    retry_period: float = 2

    @classmethod
    def from_env(cls) -> LeaseConfig:
        e = os.environ
        return cls(
            name=e.get("FAULTLINE_LEASE_NAME", "faultline-operator"),
            namespace=e.get("FAULTLINE_LEASE_NAMESPACE", e.get("POD_NAMESPACE", "faultline")),
            identity=e.get("POD_NAME") or f"{os.uname().nodename}-{os.getpid()}",
            duration=float(e.get("FAULTLINE_LEASE_DURATION_SECONDS", "15")),
            renew_deadline=float(e.get("FAULTLINE_LEASE_RENEW_DEADLINE_SECONDS", "10")),
            retry_period=float(e.get("FAULTLINE_LEASE_RETRY_PERIOD_SECONDS", "2")),
        )


def _now() -> datetime:
    return datetime.now(UTC)


class LeaderElector:
    def __init__(self, cfg: LeaseConfig):
        self.cfg = cfg
        self.api = client.CoordinationV1Api(api_client())

    def _try(self) -> bool:
        cfg = self.cfg
        now = _now()
        try:
            lease = self.api.read_namespaced_lease(cfg.name, cfg.namespace)
        except ApiException as e:
            if e.status != 404:
                raise
            body = client.V1Lease(
                metadata=client.V1ObjectMeta(name=cfg.name, namespace=cfg.namespace),
                spec=client.V1LeaseSpec(
                    holder_identity=cfg.identity,
                    lease_duration_seconds=int(cfg.duration),
                    acquire_time=now,
                    renew_time=now,
                ),
            )
            try:
                self.api.create_namespaced_lease(cfg.namespace, body)
                return True
            except ApiException as ce:
                if ce.status == 409:
                    return False
                raise
        spec = lease.spec = lease.spec or client.V1LeaseSpec()
        holder = spec.holder_identity
        renewed = spec.renew_time
        expired = renewed is None or (now - renewed).total_seconds() > (
            spec.lease_duration_seconds or cfg.duration
        )
        if holder not in (None, "", cfg.identity) and not expired:
            return False
        if holder != cfg.identity:
            spec.acquire_time = now
            spec.lease_transitions = (spec.lease_transitions or 0) + 1
        spec.holder_identity = cfg.identity
        spec.renew_time = now
        spec.lease_duration_seconds = int(cfg.duration)
        try:
            # resourceVersion in the body makes this a compare-and-swap: 409 if someone won.
            self.api.replace_namespaced_lease(cfg.name, cfg.namespace, lease)
            return True
        except ApiException as e:
            if e.status == 409:
                return False
            raise

    def acquire(self) -> None:
        """Block until this process holds the Lease."""
        while True:
            try:
                if self._try():
                    log.info("became leader (%s)", self.cfg.identity)
                    return
            except ApiException as e:
                log.warning("lease check failed: %s", e.reason)
            time.sleep(self.cfg.retry_period)

    def keep(self) -> threading.Thread:
        """Renew in the background; exit the process if renewal fails past the deadline."""

        def loop() -> None:
            last_ok = time.monotonic()
            while True:
                time.sleep(self.cfg.retry_period)
                try:
                    if self._try():
                        last_ok = time.monotonic()
                        continue
                    log.error("lost the lease to another replica; exiting")
                except ApiException as e:
                    log.warning("lease renewal failed: %s", e.reason)
                    if time.monotonic() - last_ok < self.cfg.renew_deadline:
                        continue
                    log.error(
                        "could not renew the lease within %ss; exiting", self.cfg.renew_deadline
                    )
                os._exit(1)

        t = threading.Thread(target=loop, name="lease-renewer", daemon=True)
        t.start()
        return t
