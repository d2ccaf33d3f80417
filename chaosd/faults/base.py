"""The contract every fault family implements.

The engine groups a target's desired faults by family and hands each family the complete list
for that target (flush-and-apply): `apply` must make the kernel match exactly that list, so
applying the same list twice changes nothing and an empty list is a full recovery.

`recover` is idempotent and must work without any record of a previous `apply` (it may have
crashed halfway): it discovers what Faultline owns for that target (nft table name, qdisc handle,
helper processes tagged with the target id, FUSE mounts tagged with the target id) and removes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

HELPER_MARKERS = ("faultline-delayer", "faultline-iofs")
"""The argv marker of every helper process chaosd starts inside a target's namespaces (a family's
own module defines its marker; tests/unit/chaosd_core check that the two agree). A helper is a
way into a namespace for recovery, never a reason to keep a fault (chaosd/namespaces.py)."""


@dataclass(frozen=True)
class TargetRef:
    """A target as chaosd sees it: a stable id and a live process inside the namespace the
    family works in (0: no process is left in it; the namespace is gone)."""

    id: str
    pid: int


@dataclass(frozen=True)
class Owned:
    """One kernel object or helper process Faultline owns in a namespace, as the node-wide leak
    scan finds it (chaosd/leaks.py): read from the object itself, never from memory."""

    kind: str
    """e.g. "nft_table", "qdisc", "delayer", "fuse_mount", "iofs_server"."""
    target_id: str
    """The target the object names (table comment, helper argv, mount source); "" if none."""
    key: str
    """What to remove: a device, a PID, a mount point."""


@dataclass
class Verification:
    ok: bool
    mechanism: str = ""
    """How the fault is realised, e.g. "nftables", "nfqueue-delayer", "tc-tbf", "fuse"."""
    details: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


class FaultError(Exception):
    """A fault could not be applied or recovered. The message names the field or the cause."""


class UnsupportedFault(FaultError):
    """The node cannot realise this fault (e.g. the kernel lacks sch_netem)."""


class TargetGone(FaultError):
    """The target's process (and so its namespaces) no longer exists."""


class FaultFamily(Protocol):
    name: str
    namespace: str
    """The namespace the family's kernel state lives in: "net" or "mnt"."""

    def plan(self, target: TargetRef, faults: Sequence[Any]) -> Any:
        """Pure: desired faults -> a plan (raises FaultError on an unrealisable combination)."""

    def apply(self, target: TargetRef, plan: Any) -> None:
        """Make the kernel match the plan exactly (replacing whatever this family had)."""

    def recover(self, target: TargetRef) -> None:
        """Remove everything this family owns for the target. Idempotent; TargetGone is fine."""

    def verify(self, target: TargetRef, plan: Any) -> Verification:
        """Observe the kernel and say whether the plan is in force."""

    def census(self, pid: int) -> list[Owned]:
        """Everything this family owns in the namespace `pid` is a member of, any target's."""

    def remove_owned(self, pid: int, item: Owned) -> None:
        """Remove one object `census` found (in the namespace of `pid`). Idempotent."""
