"""Which objects a new run of the same name may replace: only those that have run to their end."""

from __future__ import annotations

from typing import Any

import pytest

from backend.spec.kinds import still_running


def _obj(kind: str, phase: str | None, **meta: Any) -> dict[str, Any]:
    status = {"phase": phase} if phase else {}
    return {"kind": kind, "metadata": {"namespace": "shop", "name": "x", **meta}, "status": status}


@pytest.mark.parametrize(
    ("kind", "phase"),
    [("Experiment", "Finished"), ("PodChaos", "Finished"), ("NetworkChaos", "Failed")],
)
def test_an_ended_object_may_be_replaced(kind: str, phase: str) -> None:
    assert still_running(_obj(kind, phase)) is None


@pytest.mark.parametrize(
    ("kind", "phase"),
    [
        ("Experiment", "Observing"),
        ("Experiment", "Verdict"),
        ("Experiment", None),  # not picked up yet
        ("IOChaos", "Running"),
        ("PodChaos", "Paused"),
        ("Schedule", "Finished"),  # a Schedule never ends
    ],
)
def test_a_live_object_is_not_cut_short(kind: str, phase: str | None) -> None:
    why = still_running(_obj(kind, phase))
    assert why is not None
    assert why.startswith(f"{kind} shop/x is still running (phase {phase or 'Pending'})")


def test_one_already_being_deleted_is_waited_for_not_refused() -> None:
    obj = _obj("Experiment", "Observing", deletionTimestamp="2026-11-24T01:00:00Z")
    assert still_running(obj) is None
