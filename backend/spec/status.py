"""Status of a chaos object: one record per target, so a restarted controller carries on.

Written only by the operator (through the status subresource); users never set it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from backend.spec.rules import SpecModel

ChaosPhase = Literal["Pending", "Running", "Paused", "Finished", "Failed"]
RecordPhase = Literal["Injected", "NotInjected", "Failed", "Recovered"]
MAX_RECORD_EVENTS = 10
"""Events kept per record; older ones are dropped so status stays small on long runs."""


class RecordEvent(SpecModel):
    time: datetime
    type: Literal["Applied", "Recovered", "Failed", "Verified"]
    message: Annotated[str, Field(max_length=1024)] = ""


class Record(SpecModel):
    """One target (a pod, or a container of it) and what Faultline did to it."""

    id: Annotated[str, Field(max_length=512)]
    """namespace/pod, or namespace/pod/container for container-level faults."""
    node: Annotated[str, Field(max_length=253)] = ""
    phase: RecordPhase = "NotInjected"
    injectedCount: Annotated[int, Field(ge=0)] = 0
    recoveredCount: Annotated[int, Field(ge=0)] = 0
    lastError: Annotated[str, Field(max_length=4096)] = ""
    events: Annotated[list[RecordEvent], Field(max_length=MAX_RECORD_EVENTS)] = []


class Condition(SpecModel):
    """A Kubernetes-style condition (e.g. Selected, AllInjected, AllRecovered, Paused)."""

    type: Annotated[str, Field(min_length=1, max_length=316)]
    status: Literal["True", "False", "Unknown"]
    reason: Annotated[str, Field(max_length=1024)] = ""
    message: Annotated[str, Field(max_length=32768)] = ""
    lastTransitionTime: datetime | None = None


Conditions = Annotated[
    list[Condition],
    Field(
        max_length=32,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    ),
]


class ChaosStatus(SpecModel):
    phase: ChaosPhase = "Pending"
    conditions: Conditions = []
    records: list[Record] = []
    startTime: datetime | None = None
    endTime: datetime | None = None
    desiredTargets: Annotated[int, Field(ge=0)] = 0
    """How many targets the selector and mode picked."""
    injectedTargets: Annotated[int, Field(ge=0)] = 0
    """How many of them have the fault verified in force right now."""
    message: Annotated[str, Field(max_length=32768)] = ""
    """Why the object is Failed, or other news for the user."""
