"""Turns chaosd's leak repairs into Kubernetes Events.

Every node's chaosd scans its namespaces for Faultline-owned objects no journal entry desires
and removes them (chaosd/leaks.py). The operator asks each chaosd for the repairs it has not
seen yet and posts one Warning Event per node and pass, `FaultlineLeakRepaired`, in the
operator's namespace, naming the node: a leak is a bug worth a human's look, even once fixed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from backend.clients.chaosd import ChaosdClient, ChaosdError
from chaosd.periodic import Periodic

log = logging.getLogger("faultline.operator.leakwatch")
REASON = "FaultlineLeakRepaired"

PostEvent = Callable[[dict[str, str], str, str, str], None]


def _name(node: str) -> str:
    """A node name as an Event's generateName stem (a fixed chaosd URL is no DNS name)."""
    return re.sub(r"[^a-z0-9.-]+", "-", node.lower()).strip("-.") or "node"


def describe(repairs: list[dict[str, Any]]) -> str:
    parts = [
        f"{r.get('kind')} {r.get('key')} of target {r.get('target') or '?'} in {r.get('namespace')}"
        for r in repairs[:10]
    ]
    more = f"; and {len(repairs) - 10} more" if len(repairs) > 10 else ""
    return (f"chaosd removed {len(repairs)} leaked object(s) no fault desired: "
            + "; ".join(parts) + more)  # fmt: skip


class LeakWatch:
    def __init__(
        self,
        nodes: Callable[[], dict[str, ChaosdClient]],
        post: PostEvent,
        namespace: str,
        interval: float,
    ) -> None:
        self._nodes = nodes
        self._post = post
        self._namespace = namespace
        self.interval = interval
        self._seen: dict[str, int] = {}
        """node -> the last repair number reported (absent: the first pass reports all kept)."""
        self._periodic = Periodic("faultline-leakwatch", interval, self.poll_once, log)

    def poll_once(self) -> int:
        """Report new repairs of every node; returns how many were reported."""
        reported = 0
        for node, client in self._nodes().items():
            after = self._seen.get(node, 0)
            try:
                answer = client.leak_repairs(after=after)
                if int(answer.get("seq") or 0) < after:  # it restarted: numbering began again
                    answer = client.leak_repairs(after=0)
            except ChaosdError as e:  # an older chaosd, or one restarting: next pass
                log.debug("leak repairs of %s: %s", node, e)
                continue
            repairs = list(answer.get("repairs") or [])
            self._seen[node] = int(answer.get("seq") or 0)
            if not repairs:
                continue
            involved = {"apiVersion": "v1", "kind": "Node", "name": _name(node),
                        "namespace": self._namespace}  # fmt: skip
            try:
                self._post(involved, "Warning", REASON, f"node {node}: {describe(repairs)}")
                reported += len(repairs)
            except Exception as e:  # the repairs happened; only the telling failed
                log.warning("could not post the leak event for %s: %s", node, e)
        return reported

    def start(self) -> None:
        self._periodic.start()

    def close(self) -> None:
        self._periodic.close()
