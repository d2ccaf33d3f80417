"""Pure planning for IO faults: a target's IOFault list -> one layer config per volume.

Every volume gets exactly one FUSE layer, whatever the number of faults on it, so faults on the
same volume compose (latency and errno on one mount) instead of the last one winning. The config
is plain JSON-able data because it travels to the layer's server process over a socket.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from chaosd.duration import parse_duration
from chaosd.faults.base import FaultError
from chaosd.faults.io.rules import IORule, compile_glob
from chaosd.model import IOFault


@dataclass(frozen=True)
class VolumePlan:
    volume_path: str
    rules: tuple[IORule, ...]

    def config(self) -> list[dict[str, Any]]:
        return [r.to_json() for r in self.rules]


@dataclass(frozen=True)
class IOPlan:
    target_id: str
    volumes: tuple[VolumePlan, ...] = field(default=())

    def by_volume(self) -> dict[str, VolumePlan]:
        return {v.volume_path: v for v in self.volumes}


def build_plan(target_id: str, faults: Sequence[Any]) -> IOPlan:
    """Group faults by volume; raises FaultError naming the fault index and field."""
    grouped: dict[str, list[IORule]] = {}
    for i, raw in enumerate(faults):
        fault = _as_fault(i, raw)
        volume = normalise_volume(fault.volumePath)
        grouped.setdefault(volume, []).append(_rule(i, fault, volume))
    volumes = sorted(grouped)
    for outer in volumes:
        for inner in volumes:
            if inner != outer and inner.startswith(outer.rstrip("/") + "/"):
                raise FaultError(
                    f"volumePath: {inner!r} is inside {outer!r}; nested IO fault volumes are "
                    f"not supported, put both faults on {outer!r} with a narrower path glob"
                )
    return IOPlan(target_id, tuple(VolumePlan(v, tuple(grouped[v])) for v in volumes))


def normalise_volume(path: str) -> str:
    if not path.startswith("/"):
        raise FaultError(f"volumePath: {path!r} must be an absolute path")
    norm = posixpath.normpath(path)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    if norm == "/":
        raise FaultError("volumePath: '/' cannot carry an IO fault layer; name a directory")
    return norm


def _as_fault(i: int, raw: Any) -> IOFault:
    if isinstance(raw, IOFault):
        return raw
    try:
        return IOFault.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        where = "".join(f".{p}" for p in first["loc"])
        raise FaultError(f"faults[{i}]{where}: {first['msg']}") from e


def _rule(i: int, fault: IOFault, volume: str) -> IORule:
    path = relative_glob(i, fault.path, volume)
    compile_glob(path)  # fail at plan time, not inside the layer
    attr = fault.attr.model_dump(exclude_none=True) if fault.attr else {}
    if "ino" in attr:
        raise FaultError(
            f"faults[{i}].attr.ino: overriding inode numbers is not supported (the kernel "
            "uses them to tell files apart, so a fake one would mix files up)"
        )
    mistake = fault.mistake
    return IORule(
        action=fault.action,
        path=path,
        methods=tuple(sorted(set(fault.methods))),
        percent=float(fault.percent),
        delay_s=parse_duration(fault.delay) if fault.delay else 0.0,
        errno=fault.errno or 0,
        attr=tuple(sorted(attr.items())),
        filling=mistake.filling if mistake else "zero",
        max_occurrences=mistake.maxOccurrences if mistake else 1,
        max_length=mistake.maxLength if mistake else 1,
    )


def relative_glob(i: int, path: str, volume: str) -> str:
    """Globs are relative to the volume; an absolute one (as Chaos Mesh manifests use) must lie
    inside it and is made relative so ported manifests keep working."""
    if not path:
        raise FaultError(f"faults[{i}].path: must not be empty (use '**' for every file)")
    if path.startswith("/"):
        prefix = volume.rstrip("/") + "/"
        if path == volume:
            return ""
        if not path.startswith(prefix):
            raise FaultError(f"faults[{i}].path: {path!r} is outside volumePath {volume!r}")
        path = path[len(prefix) :]
    return path.strip("/") if path != "**" else path
