"""Ask the node's container runtime, over the CRI, for a container's main PID.

The kubelet talks to containerd and CRI-O through the same gRPC API (`runtime.v1.RuntimeService`
on a unix socket), so chaosd does too: one `ContainerStatus` call with `verbose: true` returns the
runtime's own record of the container, and both runtimes put a JSON document with the container's
`pid` in `info["info"]`. Nothing here assumes one runtime; the socket is configured or found
among the runtimes' well-known paths.

Only the handful of messages and fields chaosd reads are declared, with the field numbers of the
public CRI API (k8s.io/cri-api, runtime/v1). They are built at import time as a descriptor in a
private pool, so no generated code is committed and nothing clashes with another CRI client
loaded in the same process. Unknown fields in the runtime's answers are skipped by protobuf.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from chaosd.cri import ContainerNotFound, ContainerProcess, PodContainer, normalise_container_id

SERVICE = "/runtime.v1.RuntimeService"
WELL_KNOWN_SOCKETS = (
    "/run/containerd/containerd.sock",
    "/run/crio/crio.sock",
    "/var/run/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/run/k3s/containerd/containerd.sock",
)
"""Tried in order when no socket is configured (containerd, CRI-O, k3s's embedded containerd)."""
RUNTIME_ENDPOINT_ENV = "CONTAINER_RUNTIME_ENDPOINT"
"""The variable crictl reads; honoured so chaosd and crictl agree on a host."""
_STATES = {0: "CREATED", 1: "RUNNING", 2: "EXITED", 3: "UNKNOWN"}


class CRIError(Exception):
    """The runtime could not be asked (socket missing, runtime down, API not served)."""


# (field name, number, type, message type name or "") per message; labels are optional unless
# the name ends in "[]" (repeated).
_STR = descriptor_pb2.FieldDescriptorProto.TYPE_STRING
_BOOL = descriptor_pb2.FieldDescriptorProto.TYPE_BOOL
_ENUM_AS_INT = descriptor_pb2.FieldDescriptorProto.TYPE_INT32  # same varint on the wire
_MSG = descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE
_MESSAGES: dict[str, list[tuple[str, int, int, str]]] = {
    "VersionRequest": [("version", 1, _STR, "")],
    "VersionResponse": [
        ("version", 1, _STR, ""),
        ("runtime_name", 2, _STR, ""),
        ("runtime_version", 3, _STR, ""),
        ("runtime_api_version", 4, _STR, ""),
    ],
    "ContainerStatusRequest": [("container_id", 1, _STR, ""), ("verbose", 2, _BOOL, "")],
    "ContainerStatus": [
        ("id", 1, _STR, ""),
        ("state", 3, _ENUM_AS_INT, ""),
        ("labels[]", 12, _MSG, ".runtime.v1.InfoEntry"),
    ],
    # map<string, string> is, on the wire, a repeated message of key = 1, value = 2.
    "InfoEntry": [("key", 1, _STR, ""), ("value", 2, _STR, "")],
    "ContainerStatusResponse": [
        ("status", 1, _MSG, ".runtime.v1.ContainerStatus"),
        ("info[]", 2, _MSG, ".runtime.v1.InfoEntry"),
    ],
}


def _message_classes() -> dict[str, Any]:
    proto = descriptor_pb2.FileDescriptorProto(
        name="faultline/cri_subset.proto", package="runtime.v1", syntax="proto3"
    )
    for name, fields in _MESSAGES.items():
        msg = proto.message_type.add(name=name)
        for field_name, number, kind, type_name in fields:
            repeated = field_name.endswith("[]")
            msg.field.add(
                name=field_name.removesuffix("[]"),
                number=number,
                type=kind,
                type_name=type_name or None,
                label=(
                    descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
                    if repeated
                    else descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
                ),
            )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"runtime.v1.{name}"))
        for name in _MESSAGES
    }


_M = _message_classes()


def _usable_socket(path: Path) -> bool:
    try:
        return stat.S_ISSOCK(path.stat().st_mode)
    except OSError:
        return False


def find_socket(
    configured: str | None, *, candidates: Sequence[str] = WELL_KNOWN_SOCKETS
) -> Path | None:
    """The socket to use: the configured one (which must exist), else $CONTAINER_RUNTIME_ENDPOINT,
    else the first well-known path that is a socket; None when there is none."""
    if configured:
        path = Path(configured.removeprefix("unix://"))
        if not _usable_socket(path):
            raise CRIError(
                f"--cri-socket: {path} is not a unix socket (is the container runtime running, "
                "and is its socket's directory mounted into chaosd? Helm value: "
                "chaosd.criSocket.path)"
            )
        return path
    from_env = os.environ.get(RUNTIME_ENDPOINT_ENV, "")
    tried = [from_env.removeprefix("unix://")] if from_env else []
    for candidate in [*tried, *candidates]:
        if _usable_socket(Path(candidate)):
            return Path(candidate)
    return None


def missing_socket_message(candidates: Sequence[str] = WELL_KNOWN_SOCKETS) -> str:
    return (
        "no container runtime (CRI) socket found: tried "
        + ", ".join(candidates)
        + f" and ${RUNTIME_ENDPOINT_ENV}; set --cri-socket (Helm value chaosd.criSocket.path)"
    )


@dataclass(frozen=True)
class RuntimeVersion:
    name: str
    version: str
    api_version: str


class CRIClient:
    """A blocking client of one runtime socket; one gRPC channel reused for every call."""

    def __init__(self, socket: Path, *, timeout: float = 5.0) -> None:
        self.socket = socket
        self._timeout = timeout
        self._channel = grpc.insecure_channel(f"unix://{socket}")

    def close(self) -> None:
        self._channel.close()

    def _call(self, method: str, request: Any, response: str) -> Any:
        rpc = self._channel.unary_unary(
            f"{SERVICE}/{method}",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=_M[response].FromString,
        )
        return rpc(request, timeout=self._timeout)

    def _fail(self, method: str, e: grpc.RpcError) -> CRIError:
        code, details = e.code(), e.details()
        if code == grpc.StatusCode.UNIMPLEMENTED:
            return CRIError(
                f"CRI socket {self.socket}: the runtime does not serve runtime.v1 "
                f"(CRI v1 needs containerd >= 1.6 or CRI-O >= 1.23): {details}"
            )
        return CRIError(f"CRI socket {self.socket}: {method}: {code.name}: {details}")

    def version(self) -> RuntimeVersion:
        try:
            resp = self._call("Version", _M["VersionRequest"](version="v1"), "VersionResponse")
        except grpc.RpcError as e:
            raise self._fail("Version", e) from e
        return RuntimeVersion(resp.runtime_name, resp.runtime_version, resp.runtime_api_version)

    def main_pid(self, container_id: str) -> ContainerProcess:
        """The host PID of a running container's main process, as the runtime records it."""
        cid = normalise_container_id(container_id)
        request = _M["ContainerStatusRequest"](container_id=cid, verbose=True)
        try:
            resp = self._call("ContainerStatus", request, "ContainerStatusResponse")
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.NOT_FOUND:
                raise ContainerNotFound(
                    f"containerID: the runtime has no container {cid[:12]} on this node"
                ) from e
            raise self._fail("ContainerStatus", e) from e
        state = _STATES.get(resp.status.state, str(resp.status.state))
        if state != "RUNNING":
            raise ContainerNotFound(f"containerID: container {cid[:12]} is {state}, not running")
        return ContainerProcess(cid, pid_from_info({e.key: e.value for e in resp.info}, cid))


POD_UID_LABEL = "io.kubernetes.pod.uid"
"""Set by the kubelet on every container it creates: the mark of a pod container."""


def pod_container_of(client: CRIClient, container_id: str) -> PodContainer | None:
    """The container as a pod container, when the runtime runs it for the kubelet; else None."""
    request = _M["ContainerStatusRequest"](container_id=container_id, verbose=False)
    try:
        resp = client._call("ContainerStatus", request, "ContainerStatusResponse")
    except grpc.RpcError as e:
        if e.code() == grpc.StatusCode.NOT_FOUND:
            return None
        raise client._fail("ContainerStatus", e) from e
    labels = {e.key: e.value for e in resp.status.labels}
    if _STATES.get(resp.status.state) != "RUNNING" or POD_UID_LABEL not in labels:
        return None
    pod = "/".join(
        labels.get(k, "?") for k in ("io.kubernetes.pod.namespace", "io.kubernetes.pod.name")
    )
    return PodContainer(container_id, pod)


def pid_from_info(info: dict[str, str], container_id: str) -> int:
    """containerd and CRI-O answer a verbose status with JSON carrying `pid` in info["info"]."""
    try:
        pid = json.loads(info["info"])["pid"]
    except (KeyError, ValueError, TypeError) as e:
        raise CRIError(
            f"the runtime's verbose status of {container_id[:12]} has no info.pid "
            f"(keys: {sorted(info)}); use a runtime that reports it (containerd, CRI-O)"
        ) from e
    if not isinstance(pid, int) or pid <= 0:
        raise ContainerNotFound(f"containerID: container {container_id[:12]} has no live process")
    return pid
