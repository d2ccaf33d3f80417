"""The chaosd wire contract: a target's complete desired fault set.

Field names follow the NetworkChaos / IOChaos CRDs (Chaos Mesh v1alpha1 vocabulary) so the
operator can translate a spec into a desired set without renaming anything. Every model rejects
unknown fields so a typo is an error that names the field, never a silently ignored setting.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from chaosd.duration import parse_duration

TARGET_ID_PATTERN = r"^[a-z0-9]([a-z0-9._-]{0,126}[a-z0-9])?$"
DEVICE_PATTERN = r"^[A-Za-z0-9._@-]{1,15}$"
"""A Linux interface name (IFNAMSIZ - 1 characters). The name ends up in nft and tc commands,
so nothing that could end a token or a line (quotes, spaces, newlines, ';') ever gets through."""


class Strict(BaseModel):
    # NaN and Infinity parse as JSON numbers in Python; refused so they never reach a comparison
    # (NaN passes none) or the journal, and the error names the field.
    # Defaults are validated too, so `correlation` is 0.0 whether it was sent or defaulted:
    # a set read back from the journal then plans exactly as it did when it was put.
    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, allow_inf_nan=False, validate_default=True
    )


def _device(value: str | None) -> str | None:
    if value is not None and (value in (".", "..") or not re.fullmatch(DEVICE_PATTERN, value)):
        raise ValueError(
            f"{value!r} is not an interface name (1-15 of A-Z a-z 0-9 . _ @ -, not '.' or '..')"
        )
    return value


Device = Annotated[str | None, AfterValidator(_device)]


def _duration(value: str) -> str:
    parse_duration(value)  # raises a ValueError naming the problem
    return value


Duration = Annotated[str, Field(examples=["50ms", "1m30s"])]
Percent = Annotated[float, Field(ge=0, le=100)]
Direction = Literal["to", "from", "both"]


class Peer(Strict):
    """An address or CIDR, optionally narrowed to ports, that a network fault applies to."""

    cidr: str
    ports: list[Annotated[int, Field(ge=1, le=65535)]] = []
    protocol: Literal["tcp", "udp", "any"] = "any"

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        try:
            return str(ipaddress.ip_network(v, strict=False))
        except ValueError as e:
            raise ValueError(f"malformed address or CIDR {v!r}") from e


class NetworkBase(Strict):
    direction: Direction = "to"
    """`to`: traffic the target sends to peers; `from`: traffic it receives; `both`."""
    peers: list[Peer] = []
    """Empty means every peer."""
    device: Device = None
    """Interface for qdisc-based faults; default: the target's default-route interface."""


class PartitionFault(NetworkBase):
    kind: Literal["partition"] = "partition"

    @model_validator(mode="after")
    def _needs_peers(self) -> PartitionFault:
        if not self.peers:
            raise ValueError("peers: a partition needs at least one peer address or CIDR")
        return self


class LossFault(NetworkBase):
    kind: Literal["loss"] = "loss"
    loss: Percent
    correlation: Percent = 0


class DelayFault(NetworkBase):
    kind: Literal["delay"] = "delay"
    latency: Duration
    jitter: Duration = "0ms"
    correlation: Percent = 0
    reorder: Percent = 0

    @field_validator("latency", "jitter")
    @classmethod
    def _durations(cls, v: str) -> str:
        return _duration(v)


class DuplicateFault(NetworkBase):
    kind: Literal["duplicate"] = "duplicate"
    duplicate: Percent
    correlation: Percent = 0


class CorruptFault(NetworkBase):
    kind: Literal["corrupt"] = "corrupt"
    corrupt: Percent
    correlation: Percent = 0


class BandwidthFault(Strict):
    kind: Literal["bandwidth"] = "bandwidth"
    rate: Annotated[str, Field(pattern=r"^\d+(\.\d+)?(bps|kbps|mbps|gbps|bit|kbit|mbit|gbit)$")]
    """e.g. "1mbit" (megabits/s) or "1mbps" (megaBYTES/s): units as tc and Chaos Mesh read them."""
    limit: Annotated[int, Field(gt=0)] = 20971520
    """Bytes that may queue waiting for tokens."""
    buffer: Annotated[int, Field(gt=0)] = 10000
    """Bucket size in bytes."""
    peakrate: Annotated[int, Field(gt=0)] | None = None
    minburst: Annotated[int, Field(gt=0)] | None = None
    device: Device = None


IOMethod = Literal[
    "lookup",
    "getattr",
    "setattr",
    "open",
    "read",
    "write",
    "flush",
    "fsync",
    "release",
    "readdir",
    "opendir",
    "create",
    "unlink",
    "mkdir",
    "rmdir",
    "rename",
    "link",
    "symlink",
    "readlink",
    "statfs",
    "access",
]


class AttrOverride(Strict):
    ino: int | None = None
    size: Annotated[int, Field(ge=0)] | None = None
    blocks: Annotated[int, Field(ge=0)] | None = None
    atime: float | None = None
    mtime: float | None = None
    ctime: float | None = None
    kind: Literal["file", "dir", "symlink"] | None = None
    perm: Annotated[int, Field(ge=0, le=0o7777)] | None = None
    nlink: Annotated[int, Field(ge=0)] | None = None
    uid: Annotated[int, Field(ge=0)] | None = None
    gid: Annotated[int, Field(ge=0)] | None = None
    rdev: int | None = None


class Mistake(Strict):
    filling: Literal["zero", "random"] = "zero"
    maxOccurrences: Annotated[int, Field(ge=1)] = 1
    maxLength: Annotated[int, Field(ge=1)] = 1


class IOFault(Strict):
    kind: Literal["io"] = "io"
    action: Literal["latency", "fault", "attrOverride", "mistake"]
    volumePath: Annotated[str, Field(pattern=r"^/")]
    """Directory, as seen inside the target's mount namespace, to mount the fault layer over."""
    path: str = "**"
    """Glob, relative to volumePath ('**' matches everything)."""
    methods: list[IOMethod] = []
    """Empty means every method."""
    percent: Percent = 100
    delay: Duration | None = None
    errno: Annotated[int, Field(ge=1, le=133)] | None = None
    attr: AttrOverride | None = None
    mistake: Mistake | None = None

    @model_validator(mode="after")
    def _action_fields(self) -> IOFault:
        needs = {"latency": "delay", "fault": "errno", "attrOverride": "attr", "mistake": "mistake"}
        field = needs[self.action]
        if getattr(self, field) is None:
            raise ValueError(f"{field}: required when action is {self.action!r}")
        if self.delay is not None:
            _duration(self.delay)
        return self


NetworkFault = PartitionFault | LossFault | DelayFault | DuplicateFault | CorruptFault
Fault = Annotated[
    PartitionFault
    | LossFault
    | DelayFault
    | DuplicateFault
    | CorruptFault
    | BandwidthFault
    | IOFault,
    Field(discriminator="kind"),
]


class DesiredState(Strict):
    """Everything that should be in force on one target. An empty `faults` list recovers it."""

    pid: Annotated[int, Field(gt=0)]
    """A process inside the target (in Kubernetes: the pod sandbox's or a container's PID)."""
    faults: list[Fault] = []
    lease_seconds: Annotated[float, Field(gt=0, le=86400)] = 30
    """chaosd recovers the target by itself when the lease is not renewed in time."""
    owner: str = ""
    """Free-form tag (e.g. the chaos object's namespace/name) shown in status and logs."""
    hostNetwork: bool = False
    """The target may share the node's network namespace (a hostNetwork pod, a host process).
    Network faults on such a target act on the node's own network, so they are refused unless
    this is set: the chaos object's explicit opt-in, passed along by the operator."""


class SignalRequest(Strict):
    pid: Annotated[int, Field(gt=0)]
    signal: Annotated[int, Field(ge=1, le=64)] = 9
