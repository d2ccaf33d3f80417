"""The emergency stop's decisions, without a cluster: the flag's state and wording, a reconcile
that ends a running object and refuses a new one (and keeps them ended once the stop is lifted),
the Event told once, the switch's engage/lift callbacks, and a Schedule's skipped firing.

The real thing, with chaosd and nftables on the cluster: tests/e2e/test_operator_safety.py."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from backend.domain.limits import TargetLimits
from backend.operator.chaos import World, reconcile
from backend.operator.safety import KillSwitch, newly_stopped
from backend.operator.schedule_firing import decide, skip_message
from backend.spec.emergency import EmergencyStop, engage_data, lift_data
from tests.unit.operator.test_operator_limits import Chaosd, _loss, _world

NOW = datetime(2026, 12, 4, 23, 0, tzinfo=UTC)


def _engaged() -> EmergencyStop:
    data = engage_data("alice", "checkout  is\ndown", NOW)
    return EmergencyStop.from_data({k: v for k, v in data.items() if v is not None})


def _stop_condition(status: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in status["conditions"] if c["type"] == "EmergencyStop"), None)


def test_the_flag_says_who_engaged_it_when_and_why() -> None:
    stop = _engaged()
    assert stop.engaged and stop.engagedBy == "alice" and stop.engagedAt == NOW
    assert stop.summary() == "since 2026-12-04T23:00:00Z by alice: checkout is down"
    message = stop.refusal("this run is refused")
    assert message.startswith("the emergency stop is engaged (since 2026-12-04T23:00:00Z by")
    assert "faultline stop --lift" in message
    # A flag made with plain kubectl (enabled only) engages too, with nothing else to say.
    bare = EmergencyStop.from_data({"enabled": "TRUE"})
    assert bare.engaged and bare.summary() == ""
    assert not EmergencyStop.from_data(None).engaged
    assert not EmergencyStop.from_data({"enabled": "yes", "engagedAt": "garbage"}).engaged
    # Lifting keeps the record of who engaged it and why, and adds who lifted it and when.
    data = {k: v for k, v in engage_data("alice", "incident", NOW).items() if v is not None}
    lifted = EmergencyStop.from_data({**data, **lift_data("bob", NOW)})
    assert not lifted.engaged and (lifted.engagedBy, lifted.reason) == ("alice", "incident")
    assert (lifted.liftedBy, lifted.liftedAt) == ("bob", NOW)


def _stopped(world: World) -> World:
    return dataclasses.replace(world, emergency_stop=_engaged)


def test_a_running_object_is_ended_and_stays_ended_after_the_lift() -> None:
    chaosd, listed = Chaosd(), []
    world = _world(TargetLimits.build(), chaosd, listed)
    running = reconcile(_loss({}), world)
    assert running["injectedTargets"] == 1 and chaosd.held

    ended = reconcile(_loss({}, running), _stopped(world))
    assert chaosd.held == {}
    assert ended["phase"] == "Finished" and ended["injectedTargets"] == 0
    cond = _stop_condition(ended)
    assert cond is not None and (cond["status"], cond["reason"]) == ("True", "Stopped")
    assert "emergency stop is engaged" in ended["message"] and "alice" in ended["message"]
    assert [e["type"] for e in ended["records"][0]["events"]] == ["Applied", "Recovered"]
    # Told once: the condition turned True in this reconcile and not in the next one.
    assert newly_stopped(running, ended) == cond["message"]
    again = reconcile(_loss({}, ended), _stopped(world))
    assert newly_stopped(ended, again) == ""

    # Lifting the stop does not bring the fault back: the condition keeps the object ended.
    after = reconcile(_loss({}, ended), world)
    assert chaosd.held == {} and after["phase"] == "Finished"
    assert _stop_condition(after) == cond


def test_a_new_object_is_refused_while_engaged_and_a_later_one_injects() -> None:
    chaosd, listed = Chaosd(), []
    world = _world(TargetLimits.build(), chaosd, listed)
    refused = reconcile(_loss({}), _stopped(world))
    assert refused["phase"] == "Finished" and chaosd.held == {} and listed == []
    cond = _stop_condition(refused)
    assert cond is not None and cond["reason"] == "Refused"
    assert "this new object is refused" in cond["message"]

    fresh = reconcile(_loss({}), world)  # created after the lift
    assert fresh["injectedTargets"] == 1 and chaosd.held
    assert _stop_condition(fresh) is None


def test_the_switch_tells_engage_and_lift_once_each() -> None:
    data: list[dict[str, str] | None] = [
        None,
        {"enabled": "true", "engagedBy": "alice", "reason": "incident"},
        {"enabled": "true", "engagedBy": "alice", "reason": "incident"},
        {"enabled": "false", "engagedBy": "alice", "liftedBy": "bob"},
        {"enabled": "false", "engagedBy": "alice", "liftedBy": "bob"},
    ]
    told: list[str] = []
    switch = KillSwitch(lambda: data.pop(0), lambda: told.append("engage"))
    switch._on_lift = lambda: told.append(f"lift by {switch.state.liftedBy}")
    seen = []
    for _ in range(5):
        switch.refresh()
        seen.append((switch.engaged, switch.state.reason))
    assert told == ["engage", "lift by bob"]
    assert seen[1] == (True, "incident") and seen[3] == (False, "")


def test_a_schedule_firing_is_skipped_and_says_why() -> None:
    due = NOW
    decision = decide(
        due, NOW, starting_deadline_seconds=None, active=0, policy="Allow", paused=False,
        halted=True,
    )  # fmt: skip
    assert (decision.action, decision.reason) == ("skip", "EmergencyStop")
    message = skip_message(decision.reason, due, _engaged())
    assert "the run due at 2026-12-04T23:00:00Z was skipped" in message and "alice" in message
    normal = decide(
        due, NOW, starting_deadline_seconds=None, active=0, policy="Allow", paused=False
    )
    assert normal.action == "start"
