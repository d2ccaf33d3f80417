"""Pushes each target's union of faults to the chaosd on its node, and keeps leases alive.

A changed union is sent with PUT (chaosd flush-and-applies it); an unchanged one is renewed.
An empty union deletes the target on chaosd (full recovery). chaosd needs a PID: it resolves the
pod's container id to its main process on that node, on every push, so a restarted container is
followed.

Targets are pushed concurrently (`push_many`): each push waits on the network and on chaosd's
kernel work, so fifty targets pushed one after another took fifty round trips before the last
one was in force. chaosd serialises per target, never across targets.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from backend.clients.chaosd import ChaosdClient, ChaosdError
from backend.operator.desired import DesiredIndex, TargetKey
from chaosd.model import DesiredState

log = logging.getLogger("faultline.operator.inject")


@dataclass(frozen=True)
class PushResult:
    key: TargetKey
    ok: bool
    recovered: bool = False
    """True when the push removed every fault from the target."""
    error: str = ""
    mechanism: str = ""


ClientFactory = Callable[[str], ChaosdClient]
"""node name -> a client for that node's chaosd (raises ChaosdError when there is none)."""

PUSH_WORKERS = 16
"""Pushes in flight at once, over every object: enough to hide round trips, few enough that a
large experiment does not swamp a node's chaosd (or this process's GIL) with threads."""


class Injector:
    def __init__(self, index: DesiredIndex, clients: ClientFactory, *, lease_seconds: float):
        self.index = index
        self._clients = clients
        self._lease = lease_seconds
        self._pushed: dict[TargetKey, str] = {}
        self._guard = threading.Lock()
        self._locks: dict[TargetKey, threading.Lock] = {}
        self._pool = ThreadPoolExecutor(PUSH_WORKERS, thread_name_prefix="faultline-push")

    def push_many(self, keys: Sequence[TargetKey]) -> list[PushResult]:
        """Push several targets at once; results in the order of `keys`."""
        if len(keys) <= 1:
            return [self.push(k) for k in keys]
        return list(self._pool.map(self.push, keys))

    def push(self, key: TargetKey) -> PushResult:
        # One push per target at a time: two objects reconciled at once must not interleave
        # "compute union" and "PUT", or the older union could land last while the digest of
        # the newer one is remembered, and renewals would then keep the wrong set forever.
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            return self._push(key)

    def _push(self, key: TargetKey) -> PushResult:
        faults = self.index.union(key)
        info = self.index.info(key)
        try:
            chaosd = self._clients(key.node)
            if not faults:
                chaosd.delete_target(key.target_id)
                self._pushed.pop(key, None)
                return PushResult(key, ok=True, recovered=True)
            assert info is not None
            digest = hashlib.sha256(
                "".join(f.model_dump_json() for f in faults).encode()
                + info.container_id.encode()
                + (b"host-network" if info.host_network else b"")
            ).hexdigest()
            if self._pushed.get(key) == digest:
                try:
                    chaosd.renew(key.target_id)
                    return PushResult(key, ok=True)
                except ChaosdError as e:
                    if e.status != 404:
                        raise
                    # chaosd no longer holds the target (its lease lapsed while ticks ran
                    # late, or it lost its journal): apply it again now, not a tick later.
                    log.warning("%s/%s had lapsed on chaosd; re-applying", key.node, key.target_id)
            pid = chaosd.resolve_container(info.container_id)
            desired = DesiredState(
                pid=pid,
                faults=faults,
                lease_seconds=self._lease,
                owner=info.owner_ref,
                # chaosd refuses network faults in the node's own netns without it; set only
                # for a hostNetwork pod whose object opted in (backend/operator/targets.py).
                hostNetwork=info.host_network,
            )
            status = chaosd.put_target(key.target_id, desired)
            self._pushed[key] = digest
            return PushResult(key, ok=True, mechanism=_mechanism(status))
        except ChaosdError as e:
            self._pushed.pop(key, None)  # force a full PUT next time
            log.warning("push to %s/%s failed: %s", key.node, key.target_id, e)
            return PushResult(key, ok=False, error=str(e))


def _mechanism(status: object) -> str:
    if not isinstance(status, dict):
        return ""
    verification = status.get("verification") or {}
    if isinstance(verification, dict):
        kinds = [v.get("mechanism", "") for v in verification.values() if isinstance(v, dict)]
        return ",".join(k for k in kinds if k)
    return ""
