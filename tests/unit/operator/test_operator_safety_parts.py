"""Pure parts of the operator's pod-failure, events, kill switch and deadline logic."""

from __future__ import annotations

import json
import threading

from backend.operator.deadlines import Deadlines
from backend.operator.events import new_events
from backend.operator.podfailure import (
    ORIGINAL_IMAGES,
    fail_pod,
    failure_patch,
    holds,
    restore_patch,
)
from backend.operator.safety import KillSwitch, opt_in_message, refused_namespaces


def _pod(annotations: dict[str, str] | None = None, *, init: bool = False) -> dict:
    spec: dict = {"containers": [{"name": "b", "image": "img-b"}, {"name": "a", "image": "img-a"}]}
    if init:
        spec["initContainers"] = [{"name": "prep", "image": "img-prep"}]
    return {
        "metadata": {"name": "web", "annotations": annotations or {}, "resourceVersion": "7"},
        "spec": spec,
    }


def _held(pod: dict, patch: dict) -> dict:
    """The pod after a strategic-merge patch of images and the annotation (as the API does)."""
    out = json.loads(json.dumps(pod))
    notes = out["metadata"]["annotations"]
    for key, value in patch["metadata"]["annotations"].items():
        if value is None:
            notes.pop(key, None)
        else:
            notes[key] = value
    for field, changes in (patch.get("spec") or {}).items():
        by_name = {c["name"]: c for c in out["spec"][field]}
        for change in changes:
            by_name[change["name"]]["image"] = change["image"]
    return out


def test_failure_patch_swaps_every_image_init_containers_included_and_keeps_the_originals() -> None:
    patch = failure_patch(_pod(init=True), "pause:1", "uid-a")
    assert patch is not None
    assert patch["spec"]["containers"] == [
        {"name": "a", "image": "pause:1"},
        {"name": "b", "image": "pause:1"},
    ]
    assert patch["spec"]["initContainers"] == [{"name": "prep", "image": "pause:1"}]
    assert patch["metadata"]["resourceVersion"] == "7"  # a conflict if the pod changed
    kept = json.loads(patch["metadata"]["annotations"][ORIGINAL_IMAGES])
    assert kept == {
        "containers": {"a": "img-a", "b": "img-b"},
        "initContainers": {"prep": "img-prep"},
        "owners": ["uid-a"],
    }


def test_restore_puts_back_exactly_the_original_spec() -> None:
    pod = _pod(init=True)
    failed = _held(pod, failure_patch(pod, "pause:1", "uid-a"))  # type: ignore[arg-type]
    assert failure_patch(failed, "pause:1", "uid-a") is None  # never failed twice
    restore = restore_patch(failed, "uid-a")
    assert restore is not None
    assert _held(failed, restore) == pod
    assert restore_patch(pod, "uid-a") is None  # never failed: nothing to restore


def test_two_objects_share_a_failed_pod_and_the_last_one_restores_it() -> None:
    pod = _pod(init=True)
    by_a = _held(pod, failure_patch(pod, "pause:1", "uid-a"))  # type: ignore[arg-type]
    join = failure_patch(by_a, "pause:1", "uid-b")
    assert join is not None and "spec" not in join  # already failed: only the owner is added
    by_both = _held(by_a, join)
    assert holds(by_both, "uid-a") and holds(by_both, "uid-b")

    a_leaves = restore_patch(by_both, "uid-a")
    assert a_leaves is not None and "spec" not in a_leaves  # b still holds it: images stay
    by_b = _held(by_both, a_leaves)
    assert not holds(by_b, "uid-a") and holds(by_b, "uid-b")
    assert restore_patch(by_b, "uid-a") is None  # a has nothing left to undo
    assert _held(by_b, restore_patch(by_b, "uid-b")) == pod  # type: ignore[arg-type]


def test_the_older_flat_annotation_is_still_restored() -> None:
    failed = _pod({ORIGINAL_IMAGES: json.dumps({"a": "img-a", "b": "img-b"})})
    restore = restore_patch(failed, "any-uid")
    assert restore is not None
    assert restore["metadata"]["annotations"] == {ORIGINAL_IMAGES: None}
    assert {c["name"]: c["image"] for c in restore["spec"]["containers"]} == {
        "a": "img-a",
        "b": "img-b",
    }


def test_a_conflicting_patch_is_retried_on_a_fresh_read() -> None:
    pod = _pod()
    calls: list[dict] = []

    class Conflict(Exception):
        status = 409

    def patch(ns: str, name: str, body: dict) -> None:
        calls.append(body)
        if len(calls) == 1:
            pod["metadata"]["resourceVersion"] = "8"  # someone else wrote meanwhile
            raise Conflict()

    assert fail_pod(lambda ns, name: json.loads(json.dumps(pod)), patch, "ns", "web", "p", "u")
    assert [c["metadata"]["resourceVersion"] for c in calls] == ["7", "8"]


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


def test_uninstall_restores_a_pod_whoever_holds_it() -> None:
    pod = _pod(init=True)
    by_a = _held(pod, failure_patch(pod, "pause:1", "uid-a"))  # type: ignore[arg-type]
    by_both = _held(by_a, failure_patch(by_a, "pause:1", "uid-b"))  # type: ignore[arg-type]
    assert _held(by_both, restore_patch(by_both, None)) == pod  # type: ignore[arg-type]
