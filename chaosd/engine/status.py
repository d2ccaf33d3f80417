"""What chaosd reports about a target: the journaled desired set, how each family realises it,
and whether the kernel was observed to match (verification), plus the lease and the last error."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel

from chaosd.journal import Entry
from chaosd.model import Fault


class FamilyStatus(BaseModel):
    ok: bool
    mechanism: str = ""
    details: dict[str, Any] = {}
    problems: list[str] = []


class TargetStatus(BaseModel):
    id: str
    pid: int
    owner: str
    status: str
    applied: list[Fault]
    lease_seconds: float
    lease_expiry: float
    """Epoch seconds."""
    lease_remaining: float
    last_error: str
    families: dict[str, FamilyStatus] = {}
    """Verification per family; filled for single-target reads only (it inspects the kernel)."""

    @classmethod
    def of(cls, entry: Entry, families: dict[str, FamilyStatus] | None = None) -> TargetStatus:
        return cls(
            id=entry.id,
            pid=entry.pid,
            owner=entry.desired.owner,
            status=entry.status,
            applied=list(entry.desired.faults),
            lease_seconds=entry.desired.lease_seconds,
            lease_expiry=entry.lease_expiry,
            lease_remaining=max(0.0, entry.lease_expiry - time.time()),
            last_error=entry.last_error,
            families=families or {},
        )
