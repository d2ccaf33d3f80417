"""Translate a chaos spec into chaosd's wire contract (chaosd.model) for one target.

The operator resolves addresses (target pods' IPs, DNS names of externalTargets) and calls these
pure functions; everything chaosd cannot do exactly as written is a PlanError naming the field,
never a silently weaker fault. Several chaos objects on one target are merged into one desired
state so they compose instead of overriding each other.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Literal

from backend.spec.iochaos import AttrOverrideSpec, IOChaosSpec, Timespec
from backend.spec.networkchaos import NetworkChaosSpec
from chaosd.model import (
    AttrOverride,
    BandwidthFault,
    CorruptFault,
    DelayFault,
    DesiredState,
    DuplicateFault,
    Fault,
    IOFault,
    LossFault,
    Mistake,
    PartitionFault,
    Peer,
)


class PlanError(ValueError):
    """The spec cannot be realised by chaosd as written; the message names the field."""


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def peers_for(
    spec: NetworkChaosSpec, target_ips: Sequence[str], resolved: Mapping[str, Sequence[str]]
) -> list[Peer]:
    """The other side of a network fault; empty only when the spec names no other side."""
    peers = [Peer(cidr=ip) for ip in target_ips]
    for i, ext in enumerate(spec.externalTargets):
        if _is_address(ext):
            peers.append(Peer(cidr=ext))
        elif resolved.get(ext):
            peers.extend(Peer(cidr=ip) for ip in resolved[ext])
        else:
            raise PlanError(f"externalTargets[{i}]: {ext!r} is neither an address nor resolved")
    if spec.target is not None and not target_ips:
        # An empty peer list means "all traffic" to chaosd; never widen a fault by accident.
        raise PlanError("target: no pod matches the target selector, so there is no peer")
    return peers


def network_faults(
    spec: NetworkChaosSpec,
    target_ips: Sequence[str] = (),
    resolved: Mapping[str, Sequence[str]] | None = None,
) -> list[Fault]:
    """NetworkChaos spec + the IPs of the pods `spec.target` selected -> chaosd faults."""
    peers = peers_for(spec, target_ips, resolved or {})
    where: dict[str, object] = {"direction": spec.direction, "peers": peers, "device": spec.device}
    out: list[Fault] = []
    if spec.action == "partition":
        out.append(PartitionFault.model_validate(where))
    if spec.action == "bandwidth":
        bw = spec.bandwidth
        if bw is None:
            raise PlanError("bandwidth: required when action is bandwidth")
        out.append(
            BandwidthFault(
                rate=bw.rate,
                limit=bw.limit,
                buffer=bw.buffer,
                peakrate=bw.peakrate,
                minburst=bw.minburst,
                device=spec.device,
            )
        )
    blocks = ("delay", "loss", "duplicate", "corrupt")
    wanted = blocks if spec.action == "netem" else (spec.action,) if spec.action in blocks else ()
    for name in wanted:
        if getattr(spec, name) is None:
            if spec.action == "netem":
                continue
            raise PlanError(f"{name}: required when action is {name}")
        out.append(_netem_fault(spec, name, where))
    if not out:
        raise PlanError("action: netem needs at least one of delay, loss, duplicate or corrupt")
    return out


def _netem_fault(spec: NetworkChaosSpec, name: str, where: dict[str, object]) -> Fault:
    if name == "delay" and spec.delay is not None:
        d = spec.delay
        reorder = 0.0
        if d.reorder is not None:
            if d.reorder.gap:
                raise PlanError("delay.reorder.gap: chaosd supports only gap 0")
            if float(d.reorder.correlation):
                raise PlanError("delay.reorder.correlation: chaosd supports only 0")
            reorder = float(d.reorder.reorder)
        fields = {"latency": d.latency, "jitter": d.jitter, "reorder": reorder}
        return DelayFault.model_validate({**where, **fields, "correlation": float(d.correlation)})
    block = getattr(spec, name)
    fields = {**where, name: float(getattr(block, name)), "correlation": float(block.correlation)}
    if name == "loss":
        return LossFault.model_validate(fields)
    if name == "duplicate":
        return DuplicateFault.model_validate(fields)
    return CorruptFault.model_validate(fields)


_FILE_KINDS: dict[str, Literal["file", "dir", "symlink"]] = {
    "regularFile": "file",
    "directory": "dir",
    "symlink": "symlink",
}


def _seconds(ts: Timespec | None) -> float | None:
    return None if ts is None else ts.sec + ts.nsec / 1e9


def _attr(a: AttrOverrideSpec) -> AttrOverride:
    return AttrOverride(
        ino=a.ino,
        size=a.size,
        blocks=a.blocks,
        atime=_seconds(a.atime),
        mtime=_seconds(a.mtime),
        ctime=_seconds(a.ctime),
        kind=_FILE_KINDS[a.kind] if a.kind else None,
        perm=a.perm,
        nlink=a.nlink,
        uid=a.uid,
        gid=a.gid,
        rdev=a.rdev,
    )


def relative_glob(volume_path: str, path: str | None) -> str:
    """Chaos Mesh writes `path` as an absolute glob inside the container; chaosd wants it
    relative to the volume."""
    if not path:
        return "**"
    if not path.startswith("/"):
        return path
    root = volume_path.rstrip("/")
    if path == root or path == root + "/":
        return "**"
    if not path.startswith(root + "/"):
        raise PlanError(f"path: {path!r} is not under volumePath {volume_path!r}")
    return path[len(root) + 1 :]


def io_fault(spec: IOChaosSpec) -> IOFault:
    """IOChaos spec -> the chaosd fault for each selected container."""
    return IOFault(
        action=spec.action,
        volumePath=spec.volumePath,
        path=relative_glob(spec.volumePath, spec.path),
        methods=list(spec.methods),
        percent=spec.percent,
        delay=spec.delay,
        errno=spec.errno,
        attr=_attr(spec.attr) if spec.attr else None,
        mistake=Mistake(**spec.mistake.model_dump()) if spec.mistake else None,
    )


def desired_state(
    pid: int, contributions: Mapping[str, Sequence[Fault]], lease_seconds: float = 30
) -> DesiredState:
    """Merge every chaos object's faults on one target (owner -> faults) into the complete set
    chaosd should enforce; an empty mapping recovers the target."""
    owners = sorted(o for o, faults in contributions.items() if faults)
    faults = [f for o in owners for f in contributions[o]]
    return DesiredState(pid=pid, faults=faults, lease_seconds=lease_seconds, owner=",".join(owners))
