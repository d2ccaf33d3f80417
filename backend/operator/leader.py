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

from backend.clients import kube
from backend.clients.kube.client import Kube, shared
from backend.clients.kube.leases import Lease

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
    def __init__(self, cfg: LeaseConfig, cluster: Kube | None = None):
        self.cfg = cfg
        self.leases = (cluster or shared()).leases

    def _try(self) -> bool:
        cfg = self.cfg
        now = _now()
        lease = self.leases.read(cfg.namespace, cfg.name)
        if lease is None:
            mine = Lease(cfg.name, cfg.namespace, cfg.identity, int(cfg.duration), now, now)
            try:
                self.leases.create(mine)
                return True
            except kube.AlreadyExists:
                return False
        expired = lease.renewed is None or (now - lease.renewed).total_seconds() > (
            lease.duration_seconds or cfg.duration
        )
        if lease.holder not in (None, "", cfg.identity) and not expired:
            return False
        if lease.holder != cfg.identity:
            lease.acquired = now
            lease.transitions += 1
        lease.holder = cfg.identity
        lease.renewed = now
        lease.duration_seconds = int(cfg.duration)
        try:
            # The version read makes this a compare-and-swap: Conflict if someone won.
            self.leases.replace(lease)
            return True
        except kube.Conflict:
            return False

    def acquire(self) -> None:
        """Block until this process holds the Lease."""
        while True:
            try:
                if self._try():
                    log.info("became leader (%s)", self.cfg.identity)
                    return
            except kube.KubeError as e:
                log.warning("lease check failed: %s", e)
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
                except kube.KubeError as e:
                    log.warning("lease renewal failed: %s", e)
                    if time.monotonic() - last_ok < self.cfg.renew_deadline:
                        continue
                    log.error(
                        "could not renew the lease within %ss; exiting", self.cfg.renew_deadline
                    )
                os._exit(1)

        t = threading.Thread(target=loop, name="lease-renewer", daemon=True)
        t.start()
        return t
