"""A recording fault family for engine logic tests (a fake is fine here: these tests check the
engine's ordering and bookkeeping; the real families have their own privileged tests)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chaosd.faults.base import FaultError, TargetRef, Verification
from chaosd.journal import Journal


class RecordingFamily:
    """Records calls; `fail_plan`/`fail_apply` make the next plan/apply raise."""

    def __init__(self, name: str, journal: Journal | None = None) -> None:
        self.name = name
        self.namespace = "mnt" if name == "io" else "net"
        self.journal = journal
        self.calls: list[tuple[str, str, Any]] = []
        self.fail_plan: str | None = None
        self.fail_apply: str | None = None
        self.journal_at_apply: list[str | None] = []
        self.recovered_through: list[tuple[str, int]] = []
        """(target id, PID) of every recover: the member the engine entered through."""

    def plan(self, target: TargetRef, faults: Sequence[Any]) -> list[str]:
        if self.fail_plan:
            raise FaultError(self.fail_plan)
        return [f.kind for f in faults]

    def apply(self, target: TargetRef, plan: list[str]) -> None:
        if self.journal is not None:
            entry = self.journal.get(target.id)
            self.journal_at_apply.append(entry.status if entry else None)
        self.calls.append(("apply", target.id, plan))
        if self.fail_apply:
            raise FaultError(self.fail_apply)

    def recover(self, target: TargetRef) -> None:
        self.calls.append(("recover", target.id, None))
        self.recovered_through.append((target.id, target.pid))

    def verify(self, target: TargetRef, plan: list[str]) -> Verification:
        return Verification(ok=True, mechanism=f"{self.name}-mech", details={"plan": plan})

    def ops(self, op: str) -> list[tuple[str, str, Any]]:
        return [c for c in self.calls if c[0] == op]
