"""Schedule: create a chaos object of any kind on a cron schedule, as Chaos Mesh does."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from backend.spec.common import MAX_SECONDS, Name
from backend.spec.iochaos import IOChaosSpec
from backend.spec.networkchaos import NetworkChaosSpec
from backend.spec.podchaos import PodChaosSpec
from backend.spec.rules import Rule, SpecModel, cel_regex
from backend.spec.status import Conditions
from chaosd.duration import DURATION_PATTERN

EMBEDDED = {"PodChaos": "podChaos", "NetworkChaos": "networkChaos", "IOChaos": "ioChaos"}
"""Chaos kind -> the field of a Schedule (or an Experiment fault) that holds its spec."""

_FIELD = r"[0-9A-Za-z*/,?#-]+"
CRON_PATTERN = (
    rf"^({_FIELD} {_FIELD} {_FIELD} {_FIELD} {_FIELD}( {_FIELD})?"
    r"|@(yearly|annually|monthly|weekly|daily|midnight|hourly)"
    rf"|@every {DURATION_PATTERN[1:-1]})$"
)
"""5 fields (minute first), 6 fields (second first), a macro, or `@every <duration>`.
This is the shape only, all the API server can check; backend.spec.cron checks each field's
values, for validate_manifest (so the CLI, the dashboard and the admission webhook) and the
operator."""


def _needs_spec(kind: str, field: str) -> Rule:
    return Rule(
        f"self.type != '{kind}' || has(self.{field})",
        f"{field} is required when type is {kind}",
        lambda s: s.type != kind or getattr(s, field) is not None,
        f".{field}",
    )


class EmbeddedChaos(SpecModel):
    """Exactly one chaos spec, chosen by `type` (the Chaos Mesh Schedule layout)."""

    type: Literal["PodChaos", "NetworkChaos", "IOChaos"]
    podChaos: PodChaosSpec | None = None
    networkChaos: NetworkChaosSpec | None = None
    ioChaos: IOChaosSpec | None = None

    __rules__: ClassVar[tuple[Rule, ...]] = (
        *(_needs_spec(kind, field) for kind, field in EMBEDDED.items()),
        Rule(
            " + ".join(f"(has(self.{f}) ? 1 : 0)" for f in EMBEDDED.values()) + " == 1",
            "give exactly one of podChaos, networkChaos or ioChaos, matching type",
            lambda s: sum(getattr(s, f) is not None for f in EMBEDDED.values()) == 1,
            ".type",
        ),
    )

    def chaos_spec(self) -> PodChaosSpec | NetworkChaosSpec | IOChaosSpec:
        spec = getattr(self, EMBEDDED[self.type])
        assert spec is not None  # guaranteed by the rules above
        return spec  # type: ignore[no-any-return]


class ScheduleSpec(EmbeddedChaos):
    schedule: Annotated[
        str,
        Field(max_length=256, examples=["*/5 * * * *", "@every 30s"]),
        Rule(
            f"self.matches({cel_regex(CRON_PATTERN)})",
            "must be a cron expression with 5 fields (minute hour day-of-month month "
            "day-of-week), 6 fields (seconds first), a macro such as @hourly, "
            "or @every <duration> such as @every 30s",
            lambda v: re.fullmatch(CRON_PATTERN, v) is not None,
        ),
    ]
    concurrencyPolicy: Literal["Forbid", "Allow"] = "Forbid"
    """Forbid skips a run while the previous chaos object is still active."""
    historyLimit: Annotated[int, Field(ge=1, le=1000)] = 1
    """Finished chaos objects kept; older ones are deleted."""
    startingDeadlineSeconds: Annotated[int, Field(gt=0, le=MAX_SECONDS)] | None = None
    """A run missed by more than this many seconds is skipped instead of started late; at most
    604800 (168h), so an operator that was down for days does not start stale runs."""


class ObjectRef(SpecModel):
    kind: Annotated[str, Field(max_length=64)]
    name: Name
    namespace: Name | None = None
    uid: Annotated[str, Field(max_length=64)] | None = None


HISTORY_MAX = 100
"""Runs kept in `status.history` at most, whatever `historyLimit` says (the status stays small)."""


class ScheduleRun(SpecModel):
    """One run of a Schedule: started (a chaos object was created) or skipped (and why)."""

    name: Name
    """The run's chaos object (`<schedule>-<unix scheduled time>`); a skipped run names the
    object it would have created."""
    kind: Literal["PodChaos", "NetworkChaos", "IOChaos"]
    scheduledTime: datetime
    outcome: Literal["Started", "Skipped"]
    startTime: datetime | None = None
    """When the run's chaos object started injecting (its status.startTime)."""
    endTime: datetime | None = None
    phase: Annotated[str, Field(max_length=32)] = ""
    """The chaos object's phase as last seen (it keeps the last one after pruning)."""
    reason: Annotated[str, Field(max_length=64)] = ""
    """Why a run was skipped: Paused, Forbidden or MissedDeadline."""


class ScheduleStatus(SpecModel):
    active: Annotated[list[ObjectRef], Field(max_length=1000)] = []
    """Chaos objects created by this schedule that have not finished."""
    lastScheduleTime: datetime | None = None
    nextScheduleTime: datetime | None = None
    """When the next run is due (the `Next` column)."""
    history: Annotated[list[ScheduleRun], Field(max_length=HISTORY_MAX)] = []
    """Recent runs, newest first: max(historyLimit, 10) of them, at most HISTORY_MAX."""
    conditions: Conditions = []
    message: Annotated[str, Field(max_length=32768)] = ""
