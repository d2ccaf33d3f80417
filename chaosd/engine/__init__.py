"""The chaosd engine: journal-first apply, leases, reconcile. See `chaosd.engine.core`."""

from chaosd.engine.core import Engine
from chaosd.engine.errors import (
    ApplyFailed,
    EngineError,
    InvalidRequest,
    RecoverFailed,
    TargetNotFound,
)
from chaosd.engine.guard import PodMembership, TargetGuard
from chaosd.engine.registry import Registry
from chaosd.engine.status import FamilyStatus, TargetStatus

__all__ = [
    "ApplyFailed",
    "Engine",
    "EngineError",
    "FamilyStatus",
    "InvalidRequest",
    "PodMembership",
    "RecoverFailed",
    "Registry",
    "TargetGuard",
    "TargetNotFound",
    "TargetStatus",
]
