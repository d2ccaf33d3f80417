"""The emergency stop: the one flag object every part of Faultline reads and writes.

The flag is a ConfigMap `faultline-killswitch` in the release namespace. Its `enabled` key is
the switch itself (so `kubectl create configmap faultline-killswitch --from-literal=enabled=true`
keeps working without any Faultline tool); the CLI and the dashboard also record who engaged it,
when and why, and who lifted it. The operator, the CLI, the dashboard API and the web banner
all read the same keys through `EmergencyStop`, so the state is modelled once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

KILLSWITCH_NAME = "faultline-killswitch"
CONDITION = "EmergencyStop"
"""Status condition (True) on every object the emergency stop ended or refused."""
LIFT_HINT = 'lift it with `faultline stop --lift` (or set data.enabled to "false")'

ENABLED, BY, SINCE, REASON = "enabled", "engagedBy", "engagedAt", "reason"
LIFTED_BY, LIFTED_AT = "liftedBy", "liftedAt"
MAX_REASON = 512
"""A reason is shown in banners, Events (1 KiB) and status messages: keep it to a sentence."""


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None  # a hand-edited flag must not break the stop: the time is only shown


class EmergencyStop(BaseModel):
    """The state of the flag, as every reader sees it."""

    model_config = ConfigDict(frozen=True)

    engaged: bool = False
    engagedBy: str = ""
    engagedAt: datetime | None = None
    reason: str = ""
    liftedBy: str = ""
    liftedAt: datetime | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, str] | None) -> EmergencyStop:
        """From the ConfigMap's data; a missing ConfigMap (None) means not engaged."""
        data = data or {}
        return cls(
            engaged=data.get(ENABLED, "").strip().lower() == "true",
            engagedBy=data.get(BY, ""),
            engagedAt=_time(data.get(SINCE)),
            reason=data.get(REASON, ""),
            liftedBy=data.get(LIFTED_BY, ""),
            liftedAt=_time(data.get(LIFTED_AT)),
        )

    def summary(self) -> str:
        """`since … by … : reason`, leaving out what was not recorded (a kubectl-made flag)."""
        parts = []
        if self.engagedAt is not None:
            parts.append(f"since {_iso(self.engagedAt)}")
        if self.engagedBy:
            parts.append(f"by {self.engagedBy}")
        text = " ".join(parts)
        if self.reason:
            text = f"{text}: {self.reason}" if text else self.reason
        return text

    def refusal(self, what: str) -> str:
        """`what` happened because the stop is engaged (e.g. "this run is refused"), who engaged
        it and why, and how to lift it: the one wording of status messages and Events."""
        said = self.summary()
        where = f" ({said})" if said else ""
        return f"the emergency stop is engaged{where}: {what}; {LIFT_HINT}"


def engage_data(by: str, reason: str, now: datetime) -> dict[str, str | None]:
    """The merge patch (or new ConfigMap data) that engages the stop. None deletes a key, so
    the record of an earlier lift does not linger beside the new engagement."""
    return {
        ENABLED: "true",
        BY: by,
        SINCE: _iso(now),
        REASON: " ".join(reason.split())[:MAX_REASON],
        LIFTED_BY: None,
        LIFTED_AT: None,
    }


def lift_data(by: str, now: datetime) -> dict[str, str | None]:
    """The merge patch that lifts the stop; who engaged it and why stays as a record."""
    return {ENABLED: "false", LIFTED_BY: by, LIFTED_AT: _iso(now)}


def stopped_message(conditions: list[Mapping[str, object]]) -> str | None:
    """The message of an object's EmergencyStop condition when it is True, else None: an object
    the stop ended stays ended after the lift, across operator restarts."""
    for c in conditions:
        if c.get("type") == CONDITION and c.get("status") == "True":
            return str(c.get("message") or "")
    return None
