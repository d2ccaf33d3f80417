"""Turn selected pods into chaosd targets: which node, which target id, which container.

Network faults act on the pod's network namespace, shared by all its containers, so there is
one target per pod. IO faults act on one container's mount namespace, so there is one target per
container. Target ids are derived from the pod UID, so a re-created pod of the same name is a new
target and a stale one is never confused with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.operator.desired import TargetInfo, TargetKey
from backend.spec.kinds import HOST_NETWORK_ANNOTATION


@dataclass(frozen=True)
class PodTarget:
    key: TargetKey
    info: TargetInfo


class NotReady(Exception):
    """The pod has no node or no running container yet; it is picked up on a later tick."""


def _running_containers(pod: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        if cs.get("containerID") and "running" in (cs.get("state") or {}):
            out[cs["name"]] = cs["containerID"]
    return out


class HostNetworkRefused(Exception):
    """A network fault on a hostNetwork pod would act on the node's own network."""


def pod_target(pod: dict[str, Any], *, allow_host_network: bool = False) -> PodTarget:
    meta, spec = pod["metadata"], pod.get("spec") or {}
    node = spec.get("nodeName") or ""
    host = bool(spec.get("hostNetwork"))
    if host and not allow_host_network:
        raise HostNetworkRefused(
            f"{meta['namespace']}/{meta['name']} uses hostNetwork: a network fault there acts "
            f"on node {node or '?'}'s own network (kubelet, every hostNetwork pod); refused "
            f"unless the object is annotated {HOST_NETWORK_ANNOTATION}=true"
        )
    running = _running_containers(pod)
    if not node or not running:
        raise NotReady(f"{meta['namespace']}/{meta['name']}: no running container yet")
    first = sorted(running)[0]
    return PodTarget(
        TargetKey(node, f"pod-{meta['uid']}"),
        TargetInfo(running[first], f"{meta['namespace']}/{meta['name']}", host_network=host),
    )


def container_targets(pod: dict[str, Any], names: list[str]) -> list[PodTarget]:
    """One target per named container (every container when `names` is empty)."""
    meta, spec = pod["metadata"], pod.get("spec") or {}
    node = spec.get("nodeName") or ""
    running = _running_containers(pod)
    wanted = names or sorted(c["name"] for c in spec.get("containers") or [])
    missing = [n for n in wanted if n not in running]
    if not node or missing:
        raise NotReady(f"{meta['namespace']}/{meta['name']}: containers {missing} not running")
    return [
        PodTarget(
            TargetKey(node, f"pod-{meta['uid']}-{name}"),
            TargetInfo(running[name], f"{meta['namespace']}/{meta['name']}/{name}"),
        )
        for name in wanted
    ]
