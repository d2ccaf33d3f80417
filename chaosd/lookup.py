"""How chaosd finds a container's main PID for the operator (`GET /containers/resolve`).

The container runtime knows: chaosd asks it over the CRI socket (chaosd/cri_grpc.py). A socket
given with `--cri-socket` must exist, or chaosd refuses to start with an error naming the option
and the path. With no socket configured, chaosd looks for one at the runtimes' well-known paths;
if there is none (a plain host, or a runtime socket somewhere unusual) it falls back to scanning
`/proc/*/cgroup` for the container id (chaosd/cri.py), which needs no socket but trusts the
runtime to name cgroups after container ids, and says so in its log and in every answer (`via`).
"""

from __future__ import annotations

import logging
from typing import Protocol

from chaosd.cri import (
    ContainerProcess,
    PodContainer,
    container_ids_in_cgroup,
    container_main_pid,
    in_kubepods,
)
from chaosd.cri_grpc import (
    WELL_KNOWN_SOCKETS,
    CRIClient,
    CRIError,
    find_socket,
    missing_socket_message,
    pod_container_of,
)


class ContainerLookup(Protocol):
    via: str
    """`cri:<socket>` or `proc`, reported with every answer."""

    def main_pid(self, container_id: str) -> ContainerProcess: ...

    def pod_container(self, pid: int, cgroup: str) -> PodContainer | None:
        """The pod container `pid` runs in (its /proc cgroup text given), or None."""


class CRILookup:
    def __init__(self, client: CRIClient) -> None:
        self.client = client
        self.via = f"cri:{client.socket}"

    def main_pid(self, container_id: str) -> ContainerProcess:
        return self.client.main_pid(container_id)

    def pod_container(self, pid: int, cgroup: str) -> PodContainer | None:
        for cid in container_ids_in_cgroup(cgroup):
            found = pod_container_of(self.client, cid)
            if found is not None:
                return found
        return None


class ProcLookup:
    via = "proc"

    def main_pid(self, container_id: str) -> ContainerProcess:
        return container_main_pid(container_id)

    def pod_container(self, pid: int, cgroup: str) -> PodContainer | None:
        # Without the runtime's word, the kubelet's cgroup tree is the evidence: weaker, and
        # said so in the docs.
        ids = container_ids_in_cgroup(cgroup)
        return PodContainer(ids[0], "") if ids and in_kubepods(cgroup) else None


def choose(cri_socket: str | None, *, logger: logging.Logger) -> ContainerLookup:
    """Pick the lookup at startup. Raises CRIError when a configured socket is unusable."""
    socket = find_socket(cri_socket)
    if socket is None:
        logger.warning("%s; falling back to scanning /proc/*/cgroup", missing_socket_message())
        return ProcLookup()
    client = CRIClient(socket)
    try:
        version = client.version()
    except CRIError as e:
        if cri_socket:
            client.close()
            raise
        # A well-known path that does not answer CRI v1 (e.g. a stale socket): keep looking.
        logger.warning("%s; falling back to scanning /proc/*/cgroup", e)
        client.close()
        return ProcLookup()
    logger.info(
        "finding containers through the CRI at %s (%s %s, API %s)",
        socket, version.name, version.version, version.api_version,
    )  # fmt: skip
    return CRILookup(client)


__all__ = ["WELL_KNOWN_SOCKETS", "CRIError", "ContainerLookup", "choose"]
