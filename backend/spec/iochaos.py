"""IOChaos: latency, errors, wrong attributes or corrupted data on a volume's file operations."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from backend.spec.common import ContainerSelector, Duration
from backend.spec.rules import Rule, SpecModel
from chaosd.model import IOMethod

IOChaosAction = Literal["latency", "fault", "attrOverride", "mistake"]
_NEEDS = {"latency": "delay", "fault": "errno", "attrOverride": "attr", "mistake": "mistake"}


class Timespec(SpecModel):
    sec: int
    nsec: Annotated[int, Field(ge=0, le=999_999_999)] = 0


class AttrOverrideSpec(SpecModel):
    """File attributes reported instead of the real ones; unset fields stay real."""

    ino: Annotated[int, Field(ge=0)] | None = None
    size: Annotated[int, Field(ge=0)] | None = None
    blocks: Annotated[int, Field(ge=0)] | None = None
    atime: Timespec | None = None
    mtime: Timespec | None = None
    ctime: Timespec | None = None
    kind: Literal["regularFile", "directory", "symlink"] | None = None
    perm: Annotated[int, Field(ge=0, le=0o7777)] | None = None
    """Permission bits as a decimal number (e.g. 420 for 0644), as in Chaos Mesh."""
    nlink: Annotated[int, Field(ge=0)] | None = None
    uid: Annotated[int, Field(ge=0)] | None = None
    gid: Annotated[int, Field(ge=0)] | None = None
    rdev: Annotated[int, Field(ge=0)] | None = None


class MistakeSpec(SpecModel):
    filling: Literal["zero", "random"] = "zero"
    """What replaces the data: zero bytes or random bytes."""
    maxOccurrences: Annotated[int, Field(ge=1)] = 1
    """Up to this many wrong segments per operation."""
    maxLength: Annotated[int, Field(ge=1)] = 1
    """Up to this many bytes per wrong segment."""


def _needs(action: str) -> Rule:
    field = _NEEDS[action]
    return Rule(
        f"self.action != '{action}' || has(self.{field})",
        f"{field} is required when action is {action}",
        lambda s: s.action != action or getattr(s, field) is not None,
        f".{field}",
    )


class IOChaosSpec(ContainerSelector):
    action: IOChaosAction
    volumePath: Annotated[str, Field(pattern=r"^/", max_length=4096)]
    """Mount point of the volume inside the container; the fault layer is mounted over it."""
    path: Annotated[str, Field(max_length=4096)] | None = None
    """Glob of affected files: absolute (under volumePath, as in Chaos Mesh) or relative to
    volumePath; unset means every file."""
    methods: Annotated[list[IOMethod], Field(max_length=32)] = []
    """File operations to affect; empty means all of them."""
    percent: Annotated[int, Field(ge=0, le=100)] = 100
    """Probability, in percent, that a matching operation is affected."""
    delay: Duration | None = None
    errno: Annotated[int, Field(ge=1, le=133)] | None = None
    """Error number returned by affected operations, e.g. 5 (EIO) or 28 (ENOSPC)."""
    attr: AttrOverrideSpec | None = None
    mistake: MistakeSpec | None = None
    duration: Duration | None = None

    __rules__: ClassVar[tuple[Rule, ...]] = tuple(_needs(a) for a in _NEEDS)
