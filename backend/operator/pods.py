"""Share pod listings between the reconciles of one namespace.

Every reconcile lists the pods of the namespaces an object selects from. With many objects in one
namespace, their ticks (kopf starts them together) listed the same pods hundreds of times a
second. `PodLister` shares one listing per namespace for up to a second, and a pod event for the
namespace drops it at once, so a reconcile never works from a listing older than the watch's
latest news (namespaces outside the operator's watch: at most `max_age` old). The listing itself
is the Kubernetes client's `core.list_pods`, which reads the API server's JSON as it arrives.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class PodLister:
    def __init__(
        self,
        fetch: Callable[[list[str] | None], list[dict[str, Any]]],
        max_age: float = 1.0,
    ) -> None:
        self._fetch = fetch
        self._max_age = max_age
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._cached: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._generation: dict[str, int] = {}
        """Bumped by every invalidation: a listing fetched across one is not cached."""

    def invalidate(self, namespace: str) -> None:
        with self._guard:
            self._cached.pop(namespace, None)
            self._generation[namespace] = self._generation.get(namespace, 0) + 1

    def __call__(self, namespaces: list[str] | None) -> list[dict[str, Any]]:
        if namespaces is None:
            return self._fetch(None)
        return [pod for ns in namespaces for pod in self._one(ns)]

    def _one(self, namespace: str) -> list[dict[str, Any]]:
        with self._guard:
            lock = self._locks.setdefault(namespace, threading.Lock())
        with lock:  # one listing per namespace at a time; the others wait and share it
            with self._guard:
                hit = self._cached.get(namespace)
                generation = self._generation.get(namespace, 0)
            if hit is not None and time.monotonic() - hit[0] <= self._max_age:
                return hit[1]
            pods = self._fetch([namespace])
            with self._guard:
                if self._generation.get(namespace, 0) == generation:
                    self._cached[namespace] = (time.monotonic(), pods)
            return pods
