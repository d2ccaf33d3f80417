"""The webhook's decisions, with an in-memory authorizer standing in for SubjectAccessReviews
(the e2e module tests/e2e/test_blast_radius.py runs the real ones)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from backend.admission.review import ANNOTATION_FIELD, judge, record
from backend.domain.limits import TargetLimits
from backend.spec.creator import CREATED_BY_ANNOTATION, Creator, recorded_creator

API = "chaos.faultline.dev/v1alpha1"
DEV = {"username": "system:serviceaccount:a:dev", "uid": "u-1", "groups": ["system:authenticated"]}
OPERATOR = "system:serviceaccount:faultline:fl-faultline-operator"
TRUSTED = frozenset({OPERATOR})
RIGHTS = {("system:serviceaccount:a:dev", "a"), ("admin", "a"), ("admin", "b")}
"""(username, namespace) pairs that may create anything."""
POD_KILL = {"action": "pod-kill", "mode": "one", "selector": {}}


def _may(asked: list[tuple[str, str, str]]) -> Any:
    def may(user: Creator, plural: str, namespace: str) -> bool:
        asked.append((user.username, plural, namespace))
        return (user.username, namespace) in RIGHTS

    return may


def _obj(kind: str, spec: dict[str, Any], creator: dict[str, Any] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "x", "namespace": "a"}
    if creator is not None:
        meta["annotations"] = {CREATED_BY_ANNOTATION: Creator.from_user_info(creator).encode()}
    return {"apiVersion": API, "kind": kind, "metadata": meta, "spec": spec}


def _req(obj: dict[str, Any], user: dict[str, Any] = DEV, op: str = "CREATE", old: Any = None):  # type: ignore[no-untyped-def]
    return {
        "uid": "r-1", "operation": op, "namespace": "a", "kind": {"kind": obj["kind"]},
        "userInfo": user, "object": obj, "oldObject": old,
    }  # fmt: skip


NO_LIMITS = TargetLimits.build(protected=())


def _judge(
    req: dict[str, Any], stopped: str | None = None, limits: TargetLimits = NO_LIMITS
) -> tuple[Any, list[Any]]:
    asked: list[tuple[str, str, str]] = []
    verdict = judge(req, trusted=TRUSTED, may=_may(asked), stopped=lambda: stopped, limits=limits)
    return verdict, asked


def _apply(obj: dict[str, Any], ops: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    """RFC 6902 `add` (all the webhook emits), as the API server applies it."""
    out = copy.deepcopy(obj)
    for op in ops:
        assert op["op"] == "add"
        *parents, last = [
            p.replace("~1", "/").replace("~0", "~") for p in op["path"][1:].split("/")
        ]
        node = out
        for p in parents:
            node = node[p]
        node[last] = op["value"]
    return out


def _mutated(req: dict[str, Any]) -> dict[str, Any]:
    verdict = record(req, TRUSTED)
    assert verdict.allowed
    return {**req, "object": _apply(req["object"], verdict.patch)}


def test_record_overwrites_a_forged_creator_with_the_requester() -> None:
    forged = _obj("PodChaos", POD_KILL, creator={"username": "admin", "groups": ["system:masters"]})
    req = _mutated(_req(forged))
    assert recorded_creator(req["object"]) == Creator.from_user_info(DEV)
    assert _mutated(_req(_obj("PodChaos", POD_KILL)))["object"]["metadata"]["annotations"]


def test_record_keeps_the_record_a_trusted_account_copied() -> None:
    child = _obj("PodChaos", POD_KILL, creator=DEV)
    assert record(_req(child, {"username": OPERATOR}), TRUSTED).patch == ()
    # Without a record the trusted account itself is recorded.
    bare = _mutated(_req(_obj("PodChaos", POD_KILL), {"username": OPERATOR}))
    assert recorded_creator(bare["object"]) == Creator(OPERATOR)


def test_own_namespace_is_admitted_with_one_review_per_namespace() -> None:
    verdict, asked = _judge(_mutated(_req(_obj("PodChaos", POD_KILL))))
    assert verdict.allowed
    assert asked == [("system:serviceaccount:a:dev", "podchaos", "a")]


@pytest.mark.parametrize(
    ("kind", "spec", "field"),
    [
        ("PodChaos", {**POD_KILL, "selector": {"namespaces": ["kube-system"]}},
         "spec.selector.namespaces[0]"),
        ("PodChaos", {**POD_KILL, "selector": {"pods": {"b": ["web"]}}}, "spec.selector.pods[b]"),
        ("NetworkChaos", {"action": "partition", "mode": "all", "selector": {},
                          "target": {"mode": "all", "selector": {"namespaces": ["b"]}}},
         "spec.target.selector.namespaces[0]"),
        ("Schedule", {"schedule": "@every 1m", "type": "PodChaos",
                      "podChaos": {**POD_KILL, "selector": {"namespaces": ["b"]}}},
         "spec.podChaos.selector.namespaces[0]"),
    ],
)  # fmt: skip
def test_a_namespace_the_user_may_not_create_in_is_named(
    kind: str, spec: dict[str, Any], field: str
) -> None:
    verdict, _ = _judge(_mutated(_req(_obj(kind, spec))))
    assert not verdict.allowed
    ns = "kube-system" if "kube-system" in json.dumps(spec) else "b"
    plural = {"PodChaos": "podchaos", "NetworkChaos": "networkchaos", "Schedule": "schedules"}
    assert verdict.message == (
        f'{field}: user "system:serviceaccount:a:dev" may not create {plural[kind]} '
        f'in namespace "{ns}"'
    )


def test_a_trusted_writer_is_judged_as_the_recorded_creator() -> None:
    spec = {**POD_KILL, "selector": {"namespaces": ["b"]}}
    verdict, asked = _judge(_req(_obj("PodChaos", spec, creator=DEV), {"username": OPERATOR}))
    assert not verdict.allowed and '"system:serviceaccount:a:dev"' in verdict.message
    assert {u for u, _, _ in asked} == {DEV["username"]}
    verdict, _ = _judge(_req(_obj("PodChaos", spec, creator={"username": "admin"}),
                             {"username": OPERATOR}))  # fmt: skip
    assert verdict.allowed


def test_a_create_whose_record_was_not_written_by_the_webhook_is_refused() -> None:
    forged = _obj("PodChaos", POD_KILL, creator={"username": "admin"})
    verdict, asked = _judge(_req(forged))
    assert not verdict.allowed and verdict.message.startswith(ANNOTATION_FIELD)
    assert asked == []


def test_offline_validation_errors_name_the_field() -> None:
    spec = {"schedule": "61 * * * *", "type": "PodChaos", "podChaos": POD_KILL}
    verdict, asked = _judge(_mutated(_req(_obj("Schedule", spec))))
    assert not verdict.allowed and verdict.message.startswith("spec.schedule: Invalid value")
    assert asked == []


def test_emergency_stop_refuses_creates_but_not_updates() -> None:
    req = _mutated(_req(_obj("PodChaos", POD_KILL)))
    verdict, _ = _judge(req, stopped="the emergency stop is engaged: lift it with ...")
    assert not verdict.allowed and "lift it" in verdict.message
    old = req["object"]
    paused = copy.deepcopy(old)
    paused["metadata"]["annotations"]["chaos.faultline.dev/pause"] = "true"
    verdict, _ = _judge(_req(paused, op="UPDATE", old=old), stopped="engaged")
    assert verdict.allowed


def test_the_creator_record_is_frozen_but_recovery_is_never_blocked() -> None:
    old = _mutated(_req(_obj("PodChaos", POD_KILL)))["object"]
    changed = copy.deepcopy(old)
    changed["metadata"]["annotations"][CREATED_BY_ANNOTATION] = json.dumps({"username": "admin"})
    verdict, _ = _judge(_req(changed, op="UPDATE", old=old))
    assert not verdict.allowed and verdict.message.startswith(ANNOTATION_FIELD)
    dropped = copy.deepcopy(old)
    del dropped["metadata"]["annotations"][CREATED_BY_ANNOTATION]
    assert not _judge(_req(dropped, op="UPDATE", old=old))[0].allowed
    # Being deleted: finalizer removal passes whatever else the update carries.
    deleting = {**old, "metadata": {**old["metadata"], "deletionTimestamp": "2026-12-04T00:00:00Z"}}
    assert _judge(_req({**changed, "metadata": {**changed["metadata"], "finalizers": []}},
                       op="UPDATE", old=deleting))[0].allowed  # fmt: skip


def test_a_schedule_edit_is_judged_as_both_its_creator_and_its_editor() -> None:
    spec = {"schedule": "@every 1m", "type": "PodChaos", "podChaos": POD_KILL}
    old = _obj("Schedule", spec, creator={"username": "admin"})
    new = copy.deepcopy(old)
    new["spec"]["podChaos"]["selector"] = {"namespaces": ["b"]}
    verdict, asked = _judge(_req(new, op="UPDATE", old=old))
    assert not verdict.allowed
    assert verdict.message == (
        'spec.podChaos.selector.namespaces[0]: user "system:serviceaccount:a:dev" may not '
        'create schedules in namespace "b"'
    )
    assert {(u, ns) for u, _, ns in asked} == {("admin", "b"), (DEV["username"], "b")}


def test_deletes_are_never_judged() -> None:
    verdict, asked = _judge(_req(_obj("PodChaos", POD_KILL), op="DELETE"), stopped="engaged")
    assert verdict.allowed and asked == []


def test_the_patch_adds_to_existing_annotations_without_dropping_them() -> None:
    obj = _obj("PodChaos", POD_KILL)
    obj["metadata"]["annotations"] = {"team": "shop"}
    (op,) = record(_req(obj), TRUSTED).patch
    assert op["path"] == "/metadata/annotations/chaos.faultline.dev~1created-by"
    assert _apply(obj, (op,))["metadata"]["annotations"]["team"] == "shop"


def test_the_operators_limits_refuse_at_admission_before_any_review() -> None:
    """A protected namespace or one off the allow list is an error at `kubectl apply`, named by
    field, even for a user who may create there; no SubjectAccessReview is spent on it."""
    limits = TargetLimits.build(allowed=["a", "b"])
    spec = {**POD_KILL, "selector": {"namespaces": ["kube-system", "c", "b"]}}
    verdict, asked = _judge(_mutated(_req(_obj("PodChaos", spec))), limits=limits)
    assert not verdict.allowed and asked == []
    assert "spec.selector.namespaces[0]: namespace 'kube-system' is protected" in verdict.message
    assert "spec.selector.namespaces[1]: namespace 'c' is not in the chart's" in verdict.message
    assert "namespaces[2]" not in verdict.message
    allowed, asked = _judge(_mutated(_req(_obj("PodChaos", POD_KILL))), limits=limits)
    assert allowed.allowed and asked == [("system:serviceaccount:a:dev", "podchaos", "a")]
