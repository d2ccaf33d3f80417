"""The union of every chaos object's faults, per target: how overlapping experiments compose.

Two chaos objects acting on one pod (say loss from one, delay from another) must both act.
chaosd takes a target's *complete* desired set, so the operator keeps, per target, the faults
each owner (chaos object uid) wants, and always sends the union. Removing one owner re-sends the
rest, never an empty set while another owner is still active.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass

from chaosd.model import Fault


@dataclass(frozen=True)
class TargetKey:
    """Where a fault set goes: the node whose chaosd owns it and chaosd's target id."""

    node: str
    target_id: str


@dataclass(frozen=True)
class TargetInfo:
    """How chaosd finds the target's process: a container of the pod (any, for network faults)."""

    container_id: str
    owner_ref: str
    """The pod, as `namespace/name`, for status records and logs."""
    host_network: bool = False
    """The pod shares the node's network namespace and its object opted in to acting there."""


DROPS_FIRST = ("partition", "loss")


class DesiredIndex:
    """Thread-safe: kopf runs handlers for different objects concurrently."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_target: dict[TargetKey, dict[str, list[Fault]]] = defaultdict(dict)
        self._info: dict[TargetKey, TargetInfo] = {}

    def set(self, owner: str, key: TargetKey, info: TargetInfo, faults: list[Fault]) -> None:
        with self._lock:
            self._by_target[key][owner] = list(faults)
            self._info[key] = info

    def remove(self, owner: str, key: TargetKey) -> None:
        with self._lock:
            owners = self._by_target.get(key)
            if owners is not None:
                owners.pop(owner, None)
                if not owners:
                    del self._by_target[key]
                    self._info.pop(key, None)

    def drop_owner(self, owner: str) -> list[TargetKey]:
        """Forget an owner everywhere; return the targets whose union changed."""
        with self._lock:
            touched = [k for k, owners in self._by_target.items() if owner in owners]
        for key in touched:
            self.remove(owner, key)
        return touched

    def targets_of(self, owner: str) -> list[TargetKey]:
        with self._lock:
            return [k for k, owners in self._by_target.items() if owner in owners]

    def union(self, key: TargetKey) -> list[Fault]:
        """Every owner's faults for the target, in a stable order (by owner id)."""
        with self._lock:
            owners = self._by_target.get(key, {})
            faults = [f for owner in sorted(owners) for f in owners[owner]]
        # Drops first: chaosd lays rules out in list order and a delay's queue verdict ends
        # the packet's walk through the chain, so a loss listed after a delay would never act.
        return sorted(faults, key=lambda f: getattr(f, "kind", "") not in DROPS_FIRST)

    def info(self, key: TargetKey) -> TargetInfo | None:
        with self._lock:
            return self._info.get(key)

    def all_targets(self) -> list[TargetKey]:
        with self._lock:
            return list(self._by_target)

    def clear(self) -> list[TargetKey]:
        """Forget every owner (the kill switch); return the targets that had faults."""
        with self._lock:
            keys = list(self._by_target)
            self._by_target.clear()
            self._info.clear()
        return keys
