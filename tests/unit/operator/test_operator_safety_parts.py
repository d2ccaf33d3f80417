"""Pure parts of the operator's pod-failure, events, kill switch and deadline logic."""

from __future__ import annotations

import json
import threading

from backend.operator.deadlines import Deadlines
from backend.operator.events import new_events
from backend.operator.podfailure import ORIGINAL_IMAGES, failure_patch, restore_patch
from backend.operator.safety import KillSwitch, opt_in_message, refused_namespaces


def _pod(annotations: dict[str, str] | None = None) -> dict:
    return {
        "metadata": {"name": "web", "annotations": annotations or {}},
        "spec": {"containers": [{"name": "b", "image": "img-b"}, {"name": "a", "image": "img-a"}]},
    }


def test_failure_patch_swaps_every_image_and_keeps_the_originals() -> None:
    patch = failure_patch(_pod(), "pause:1")
    assert patch is not None
    assert patch["spec"]["containers"] == [
        {"name": "a", "image": "pause:1"},
        {"name": "b", "image": "pause:1"},
    ]
    kept = json.loads(patch["metadata"]["annotations"][ORIGINAL_IMAGES])
    assert kept == {"a": "img-a", "b": "img-b"}


def test_a_failed_pod_is_not_failed_twice_and_restores_from_the_annotation() -> None:
    failed = _pod({ORIGINAL_IMAGES: json.dumps({"a": "img-a", "b": "img-b"})})
    assert failure_patch(failed, "pause:1") is None
    restore = restore_patch(failed)
    assert restore is not None
    assert restore["metadata"]["annotations"] == {ORIGINAL_IMAGES: None}
    assert {c["name"]: c["image"] for c in restore["spec"]["containers"]} == {
        "a": "img-a",
        "b": "img-b",
    }
    assert restore_patch(_pod()) is None  # never failed: nothing to restore


def _status(*events: tuple[str, str, str]) -> dict:
    return {
        "records": [
            {"id": "ns/web", "events": [{"time": t, "type": k, "message": m} for t, k, m in events]}
        ]
    }


def test_only_new_record_events_are_told_whatever_the_time_format() -> None:
    old = _status(("2026-01-01T00:00:00Z", "Applied", "applied"))
    new = _status(
        ("2026-01-01T00:00:00+00:00", "Applied", "applied"),
        ("2026-01-01T00:00:05+00:00", "Recovered", "fault removed"),
    )
    told = new_events(old, new)
    assert [(e.target, e.reason, e.severity) for e in told] == [("ns/web", "Recovered", "Normal")]
    failed = new_events({}, _status(("2026-01-01T00:00:00Z", "Failed", "boom")))
    assert [(e.reason, e.severity) for e in failed] == [("Failed", "Warning")]


def test_opt_in_refuses_namespaces_without_the_annotation() -> None:
    notes = {"a": {"chaos.faultline.dev/inject": "enabled"}, "b": {}}
    refused = refused_namespaces(["a", "b", "c"], lambda ns: notes.get(ns, {}))
    assert refused == ["b", "c"]
    assert "chaos.faultline.dev/inject=enabled" in opt_in_message(refused)


def test_kill_switch_engages_once_and_keeps_its_state_on_api_errors() -> None:
    data: list[dict[str, str] | Exception | None] = [
        None,
        {"enabled": "true"},
        {"enabled": "true"},
        RuntimeError("api down"),
        {"enabled": "false"},
    ]
    engaged: list[int] = []

    def read() -> dict[str, str] | None:
        item = data.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    switch = KillSwitch(read, lambda: engaged.append(1))
    assert [switch.refresh() for _ in range(5)] == [False, True, True, True, False]
    assert engaged == [1]


def test_a_rearmed_deadline_fires_once() -> None:
    fired: list[str] = []
    done = threading.Event()
    deadlines = Deadlines()
    deadlines.arm("uid", 30, lambda: fired.append("first"))
    deadlines.arm("uid", 0, lambda: (fired.append("second"), done.set()))
    assert done.wait(10)
    deadlines.cancel("uid")
    assert fired == ["second"]
