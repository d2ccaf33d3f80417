"""NetworkChaos: partition, loss, delay, duplicate, corrupt and bandwidth faults.

`loss`, `delay`, `duplicate` and `corrupt` each have their own action and block, as in Chaos
Mesh; `netem` combines any of the four blocks in one object.
"""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from backend.spec.common import Duration, PercentString, PodSelector
from backend.spec.k8scel import is_cidr, is_ip
from backend.spec.rules import Rule, SpecModel, cel_regex
from chaosd.model import DEVICE_PATTERN

NetworkChaosAction = Literal[
    "partition", "loss", "delay", "duplicate", "corrupt", "bandwidth", "netem"
]
NETEM_BLOCKS = ("delay", "loss", "duplicate", "corrupt")
_RATE_RE = r"^[0-9]+([.][0-9]+)?(bps|kbps|mbps|gbps|bit|kbit|mbit|gbit)$"
_DNS_RE = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_DOTTED_RE = r"^[0-9.]+$"
"""Digits and dots only: meant as an IPv4 address (no DNS name is all digits)."""


class ReorderSpec(SpecModel):
    reorder: PercentString
    """Share of packets sent at once instead of delayed."""
    correlation: PercentString = "0"
    gap: Annotated[int, Field(ge=0)] = 0
    """Accepted for Chaos Mesh compatibility; chaosd supports only 0 (no gap)."""


class DelaySpec(SpecModel):
    latency: Duration
    correlation: PercentString = "0"
    jitter: Duration = "0ms"
    reorder: ReorderSpec | None = None


class LossSpec(SpecModel):
    loss: PercentString
    correlation: PercentString = "0"


class DuplicateSpec(SpecModel):
    duplicate: PercentString
    correlation: PercentString = "0"


class CorruptSpec(SpecModel):
    corrupt: PercentString
    correlation: PercentString = "0"


class BandwidthSpec(SpecModel):
    rate: Annotated[
        str,
        Field(max_length=32),
        Rule(
            f"self.matches({cel_regex(_RATE_RE)})",
            "must be a rate such as 1mbps (bytes/s) or 8mbit (bits/s): "
            "a number then bps, kbps, mbps, gbps, bit, kbit, mbit or gbit",
            lambda v: re.fullmatch(_RATE_RE, v) is not None,
        ),
    ]
    limit: Annotated[int, Field(ge=1)] = 20971520
    """Bytes that may queue waiting for tokens."""
    buffer: Annotated[int, Field(ge=1)] = 10000
    """Bucket size in bytes."""
    peakrate: Annotated[int, Field(ge=1)] | None = None
    minburst: Annotated[int, Field(ge=1)] | None = None


def _address_or_name(v: str) -> bool:
    if "/" in v:
        return True  # a CIDR: the rule before this one judges it
    if ":" in v or re.fullmatch(_DOTTED_RE, v):
        return is_ip(v)
    return re.fullmatch(_DNS_RE, v) is not None


ExternalTarget = Annotated[
    str,
    Field(max_length=253),
    Rule(
        "!self.contains('/') || isCIDR(self)",
        "a CIDR must be an IP address and a prefix length its family allows: "
        "0-32 for IPv4 (10.0.0.0/8), 0-128 for IPv6 (fd00::/64)",
        lambda v: "/" not in v or is_cidr(v),
    ),
    Rule(
        f"self.contains('/') || ((self.contains(':') || self.matches({cel_regex(_DOTTED_RE)}))"
        f" ? isIP(self) : self.matches({cel_regex(_DNS_RE)}))",
        "must be an IP address, a CIDR or a DNS name",
        _address_or_name,
    ),
]


def _has_block(action: str) -> Rule:
    return Rule(
        f"self.action != '{action}' || has(self.{action})",
        f"{action} is required when action is {action}",
        lambda s: s.action != action or getattr(s, action) is not None,
        f".{action}",
    )


def _no_peers_for_bandwidth(s: NetworkChaosSpec) -> bool:
    return s.action != "bandwidth" or (s.target is None and not s.externalTargets)


class NetworkChaosSpec(PodSelector):
    action: NetworkChaosAction
    duration: Duration | None = None
    """How long the fault lasts; unset means until the object is deleted."""
    direction: Literal["to", "from", "both"] = "to"
    """to: traffic the selected pods send to the target; from: traffic they receive from it."""
    target: PodSelector | None = None
    """The other side: pods the fault applies between (required for partition)."""
    externalTargets: Annotated[list[ExternalTarget], Field(max_length=64)] = []
    """Addresses, CIDRs or DNS names outside the cluster that the fault applies between."""
    # chaosd's own pattern, refused here first: the name reaches nft and tc rule text. No length
    # bound beside it (the pattern holds the 15), so the server reports one error, as we do.
    device: (
        Annotated[
            str,
            Field(pattern=DEVICE_PATTERN),
            Rule(
                "self != '.' && self != '..'",
                "must name an interface, not . or ..",
                lambda v: v not in (".", ".."),
            ),
        ]
        | None
    ) = None
    """Interface inside the pod (1-15 of letters, digits and . _ @ -); default: the one with the
    default route."""
    delay: DelaySpec | None = None
    loss: LossSpec | None = None
    duplicate: DuplicateSpec | None = None
    corrupt: CorruptSpec | None = None
    bandwidth: BandwidthSpec | None = None

    __rules__: ClassVar[tuple[Rule, ...]] = (
        *(_has_block(a) for a in (*NETEM_BLOCKS, "bandwidth")),
        Rule(
            "self.action != 'netem' || " + " || ".join(f"has(self.{b})" for b in NETEM_BLOCKS),
            "netem needs at least one of delay, loss, duplicate or corrupt",
            lambda s: s.action != "netem" or any(getattr(s, b) for b in NETEM_BLOCKS),
            ".action",
        ),
        Rule(
            "self.action != 'partition' || has(self.target) || "
            "(has(self.externalTargets) && size(self.externalTargets) > 0)",
            "target is required when action is partition (or give externalTargets)",
            lambda s: s.action != "partition" or s.target is not None or bool(s.externalTargets),
            ".target",
        ),
        Rule(
            "self.action != 'bandwidth' || (!has(self.target) && "
            "(!has(self.externalTargets) || size(self.externalTargets) == 0))",
            "bandwidth limits all egress of the device; target and externalTargets "
            "cannot be used with action bandwidth",
            _no_peers_for_bandwidth,
            ".target",
        ),
        Rule(
            "self.action != 'bandwidth' || self.direction == 'to'",
            "bandwidth shapes only traffic the pods send; direction must be to",
            lambda s: s.action != "bandwidth" or s.direction == "to",
            ".direction",
        ),
    )
