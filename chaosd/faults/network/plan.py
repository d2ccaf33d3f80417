"""Pure planning: a target's complete list of network faults -> what the kernel should hold.

No I/O happens here, so every combination can be unit-tested without root. What the node can do
(sch_netem, the nft `queue` statement) is passed in as `Capabilities`, probed once elsewhere.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from chaosd.duration import parse_duration
from chaosd.faults.base import FaultError, UnsupportedFault
from chaosd.faults.network import rules
from chaosd.model import (
    TARGET_ID_PATTERN,
    BandwidthFault,
    CorruptFault,
    DelayFault,
    DuplicateFault,
    LossFault,
    PartitionFault,
)

# NFQUEUE numbers are per netns, so a fixed range cannot collide with another target.
QUEUE_BASE = 0xFA10
# Distinctive qdisc handles ("fa17:" / "fa18:") so recovery deletes only what Faultline added.
TBF_HANDLE = 0xFA17_0000
NETEM_HANDLE = 0xFA18_0000
NETEM_UNSUPPORTED = "unsupported on this node: kernel lacks sch_netem"
_RATE = re.compile(r"^(\d+(?:\.\d+)?)(bps|kbps|mbps|gbps|bit|kbit|mbit|gbit)$")
# tc's spelling: "...bit" is bits per second, "...bps" is BYTES per second.
_RATE_BYTES = {"bit": 1 / 8, "kbit": 1e3 / 8, "mbit": 1e6 / 8, "gbit": 1e9 / 8,
               "bps": 1.0, "kbps": 1e3, "mbps": 1e6, "gbps": 1e9}  # fmt: skip


@dataclass(frozen=True)
class Capabilities:
    netem: bool
    """The kernel has sch_netem (delay/duplicate/corrupt as a qdisc)."""
    nft_queue: bool
    """The kernel has nft_queue; without it the queue verdict is an xt NFQUEUE target."""


@dataclass(frozen=True)
class DelayerSpec:
    """One delayer process: holds packets of one NFQUEUE for latency ± jitter."""

    queue: int
    latency: float
    jitter: float = 0.0
    correlation: float = 0.0
    reorder: float = 0.0

    def args(self, target_id: str) -> list[str]:
        """Command-line arguments; the marker and target id let recovery find the process."""
        return ["faultline-delayer", f"target={target_id}", f"queue={self.queue}",
                f"latency={self.latency!r}", f"jitter={self.jitter!r}",
                f"correlation={self.correlation!r}", f"reorder={self.reorder!r}"]  # fmt: skip


@dataclass(frozen=True)
class QdiscSpec:
    kind: Literal["tbf", "netem"]
    handle: int
    parent: int | None
    """None: the root of the device."""
    device: str | None
    """None: the target's default-route interface, else its first non-loopback one."""
    params: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class NetworkPlan:
    target_id: str
    chains: dict[str, list[str]] = field(default_factory=dict)
    """nft rules per base chain ("output", "input")."""
    delayers: tuple[DelayerSpec, ...] = ()
    qdiscs: tuple[QdiscSpec, ...] = ()
    native_queue: bool = False

    @property
    def digest(self) -> str:
        text = repr((self.chains, self.delayers, self.qdiscs, self.native_queue))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def needs_table(self) -> bool:
        return any(self.chains.values())

    @property
    def mechanisms(self) -> list[str]:
        found = ["nftables"] if self.needs_table else []
        found += ["nfqueue-delayer"] if self.delayers else []
        found += [f"tc-{q.kind}" if q.kind == "tbf" else "netem" for q in self.qdiscs]
        return found

    def nft_transaction(self, existing_delay_queues: Sequence[int]) -> str:
        if not self.needs_table:
            return rules.delete_transaction()
        queues = [d.queue for d in self.delayers]
        return rules.render_transaction(
            self.target_id, self.digest, self.chains, queues, existing_delay_queues,
            self.native_queue,
        )  # fmt: skip


def parse_rate(text: str) -> int:
    """Bytes per second for a tc-style rate ("1mbit" = 125000, "1mbps" = 1000000)."""
    m = _RATE.match(text)
    if not m:
        raise FaultError(
            f"rate: invalid rate {text!r}: use e.g. '1mbit' (bits) or '100kbps' (bytes)"
        )
    value = float(m.group(1)) * _RATE_BYTES[m.group(2)]
    if value < 1:
        raise FaultError(f"rate: {text!r} is below one byte per second")
    return int(value)


def _ways(direction: str) -> list[str]:
    return ["to", "from"] if direction == "both" else [direction]


def build_plan(target_id: str, faults: Sequence[Any], caps: Capabilities) -> NetworkPlan:
    """The complete kernel state for a target's network faults (an empty list: nothing)."""
    if not re.match(TARGET_ID_PATTERN, target_id):
        raise FaultError(f"target.id: {target_id!r} must match {TARGET_ID_PATTERN}")
    chains: dict[str, list[str]] = {"output": [], "input": []}
    delayers: list[DelayerSpec] = []
    netem: dict[str, Any] = {}
    netem_device: list[str | None] = []
    tbf: QdiscSpec | None = None

    def add(f: Any, action: str, tag: str) -> None:
        for way in _ways(f.direction):
            chain = rules.HOOK_CHAIN[way][0]
            chains[chain] += rules.fault_rules(f.peers, way, f.device, action, tag)

    def netem_ok(i: int, f: Any, name: str) -> bool:
        if not caps.netem:
            return False
        if f.peers or f.direction != "to":
            raise FaultError(f"faults[{i}].peers: {name} through netem acts on all egress traffic;"
                             " use direction 'to' and no peers")  # fmt: skip
        if name in netem:
            raise FaultError(f"faults[{i}]: only one {name} fault per target")
        netem_device.append(f.device)
        return True

    # A packet sent to the delayer's queue leaves the chain when the delayer accepts it, so
    # rules after the delay jump never see it: drops (partition, loss) must come first whatever
    # order the faults were listed in. The sort is stable and keeps each fault's index for tags.
    ordered = sorted(enumerate(faults), key=lambda pair: isinstance(pair[1], DelayFault))
    for i, f in ordered:
        if isinstance(f, PartitionFault):
            add(f, "drop", f"partition#{i}")
        elif isinstance(f, LossFault):
            if f.correlation:
                raise FaultError(f"faults[{i}].correlation: loss correlation is not supported "
                                 "(each packet is dropped independently); set it to 0")  # fmt: skip
            if f.loss > 0:
                add(f, rules.loss_action(f.loss), f"loss#{i}")
        elif isinstance(f, DelayFault):
            latency, jitter = parse_duration(f.latency), parse_duration(f.jitter)
            if netem_ok(i, f, "delay"):
                netem.update(delay=latency, jitter=jitter, delay_corr=f.correlation,
                             prob_reorder=f.reorder)  # fmt: skip
                continue
            queue = QUEUE_BASE + len(delayers)
            delayers.append(DelayerSpec(queue, latency, jitter, f.correlation, f.reorder))
            add(f, f"jump {rules.delay_chain(queue)}", f"delay#{i}")
        elif isinstance(f, DuplicateFault | CorruptFault):
            name = f.kind
            if not caps.netem:
                raise UnsupportedFault(f"faults[{i}] ({name}): {NETEM_UNSUPPORTED}")
            netem_ok(i, f, name)
            if isinstance(f, DuplicateFault):
                netem.update(duplicate=f.duplicate, dup_corr=f.correlation)
            else:
                netem.update(prob_corrupt=f.corrupt, corr_corrupt=f.correlation)
        elif isinstance(f, BandwidthFault):
            if tbf is not None:
                raise FaultError(f"faults[{i}]: only one bandwidth fault per target")
            tbf = _tbf(i, f)
        else:
            kind = getattr(f, "kind", type(f).__name__)
            raise FaultError(f"faults[{i}].kind: {kind!r} is not a network fault")
    qdiscs: list[QdiscSpec] = [tbf] if tbf else []
    if netem:
        device = netem_device[0]
        if (tbf and tbf.device != device) or len(set(netem_device)) > 1:
            raise FaultError("device: qdisc-based faults of one target must use the same device")
        # Under tbf (its class 1) when both are wanted, so shaping and netem act together.
        parent = TBF_HANDLE | 1 if tbf else None
        qdiscs.append(
            QdiscSpec("netem", NETEM_HANDLE, parent, device, tuple(sorted(netem.items())))
        )
    chains = {k: v for k, v in chains.items() if v}
    return NetworkPlan(target_id, chains, tuple(delayers), tuple(qdiscs), caps.nft_queue)


def _tbf(i: int, f: BandwidthFault) -> QdiscSpec:
    rate = parse_rate(f.rate)
    params: dict[str, Any] = {"rate": rate, "burst": f.buffer, "limit": f.limit}
    if f.peakrate is not None:
        if f.minburst is None:
            raise FaultError(f"faults[{i}].minburst: required when peakrate is set")
        if f.peakrate <= rate:
            raise FaultError(f"faults[{i}].peakrate: must be greater than rate ({rate} bytes/s)")
        params.update(peak=f.peakrate, mtu=f.minburst)
    return QdiscSpec("tbf", TBF_HANDLE, None, f.device, tuple(sorted(params.items())))
