"""What the admission webhook decides about one AdmissionReview request: pure, no I/O.

The rule it enforces (docs/security.md): **a Faultline object is admitted only if its creator may
`create` that kind of object in every namespace the object can touch.** The creator is recorded
at admission (`record`, the mutating half) and can never change afterwards, so objects the
operator makes from a parent and objects the dashboard writes for a user are judged as that user,
not as the privileged account that wrote them. The I/O - SubjectAccessReviews and the emergency
stop's ConfigMap - comes in as the `may` and `stopped` callables, so every path here is tested
without a cluster and the server stays thin.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from backend.domain.limits import TargetLimits
from backend.domain.reach import reach
from backend.spec.creator import CREATED_BY_ANNOTATION, Creator, recorded_creator
from backend.spec.kinds import KINDS
from backend.spec.validate import validate_manifest

May = Callable[[Creator, str, str], bool]
"""(subject, plural, namespace) -> may the subject create that plural in that namespace?"""

ANNOTATION_FIELD = f"metadata.annotations[{CREATED_BY_ANNOTATION}]"
_MAX_ERRORS = 10


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    message: str = ""
    patch: tuple[dict[str, Any], ...] = ()
    """JSONPatch operations (mutating webhook only)."""


ALLOW = Verdict(True)


def _annotations(obj: Any) -> dict[str, Any]:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    return dict((meta or {}).get("annotations") or {}) if isinstance(meta, dict) else {}


def requester(request: dict[str, Any]) -> Creator:
    return Creator.from_user_info(dict(request.get("userInfo") or {}))


def record(request: dict[str, Any], trusted: Collection[str]) -> Verdict:
    """The mutating half: on CREATE, write the requester into the created-by annotation, unless a
    trusted Faultline account (operator, dashboard) passes on a valid record it copied."""
    obj = request.get("object")
    if request.get("operation") != "CREATE" or not isinstance(obj, dict):
        return ALLOW
    user = requester(request)
    if user.username in trusted and recorded_creator(obj) is not None:
        return ALLOW
    value = user.encode()
    if not isinstance((obj.get("metadata") or {}).get("annotations"), dict):
        op = {"op": "add", "path": "/metadata/annotations", "value": {CREATED_BY_ANNOTATION: value}}
    else:
        key = CREATED_BY_ANNOTATION.replace("~", "~0").replace("/", "~1")
        op = {"op": "add", "path": f"/metadata/annotations/{key}", "value": value}
    return Verdict(True, patch=(op,))


def subjects(request: dict[str, Any], trusted: Collection[str]) -> list[Creator]:
    """Whose rights bound the object: the recorded creator when a trusted account writes it,
    else the requester - and on an UPDATE by anyone else, the recorded creator as well, so
    neither the editor nor the object's creator gains reach through the other."""
    user, recorded = requester(request), recorded_creator(request.get("object") or {})
    if user.username in trusted:
        return [recorded or user]
    if request.get("operation") == "UPDATE" and recorded is not None and recorded != user:
        return [recorded, user]
    return [user]


def _deny(messages: list[str]) -> Verdict:
    shown = messages[:_MAX_ERRORS]
    more = len(messages) - len(shown)
    return Verdict(False, "; ".join(shown) + (f"; and {more} more" if more > 0 else ""))


def _update_shortcut(request: dict[str, Any]) -> Verdict | None:
    """UPDATEs decided without judging targets. Recovery is never blocked: an object being
    deleted (finalizer removal) or an update that leaves the spec alone (pause, labels,
    finalizers) is always allowed - only the creator record is frozen."""
    obj, old = request.get("object") or {}, request.get("oldObject") or {}
    if (old.get("metadata") or {}).get("deletionTimestamp"):
        return ALLOW
    before = _annotations(old).get(CREATED_BY_ANNOTATION)
    if _annotations(obj).get(CREATED_BY_ANNOTATION) != before:
        return Verdict(
            False,
            f"{ANNOTATION_FIELD}: may not be changed: it records who created the object, whose "
            "rights bound what the object may touch",
        )
    if obj.get("spec") == old.get("spec"):
        return ALLOW
    return None


def judge(
    request: dict[str, Any],
    *,
    trusted: Collection[str],
    may: May,
    stopped: Callable[[], str | None],
    limits: TargetLimits,
) -> Verdict:
    """The validating half. `stopped()` says why the emergency stop refuses new objects, or
    None when it is not engaged. `limits` are the operator's (protected namespaces, the allow
    list): the operator enforces them whatever is admitted; checking them here too turns a
    Failed object into an error at `kubectl apply`."""
    operation, obj = request.get("operation"), request.get("object")
    kind = (request.get("kind") or {}).get("kind")
    if operation not in ("CREATE", "UPDATE"):
        return ALLOW  # DELETE and CONNECT are not in the rules; never block them if sent anyway
    if not isinstance(obj, dict) or kind not in KINDS:
        return Verdict(False, f"kind {kind!r}: not a Faultline kind this webhook knows")
    if operation == "UPDATE" and (shortcut := _update_shortcut(request)) is not None:
        return shortcut
    if operation == "CREATE" and (why := stopped()) is not None:
        return Verdict(False, why)
    errors = validate_manifest(obj, request.get("oldObject") if operation == "UPDATE" else None)
    if errors:
        return _deny([str(e) for e in errors])
    user = requester(request)
    # Only when the mutating half was skipped: a forged record is never trusted.
    if operation == "CREATE" and user.username not in trusted and recorded_creator(obj) != user:
        return Verdict(False, f"{ANNOTATION_FIELD}: must record the requesting user")
    namespace = str(request.get("namespace") or (obj.get("metadata") or {}).get("namespace"))
    spec = KINDS[kind].spec.model_validate(obj["spec"], strict=True)
    plural = KINDS[kind].plural
    touched = reach(kind, spec, namespace)
    if outside := limits.refusals(touched):
        return _deny(outside)
    denials, asked = [], {}
    for subject in subjects(request, trusted):
        for t in touched:
            key = (subject.encode(), t.namespace)
            if key not in asked:
                asked[key] = may(subject, plural, t.namespace)
            if not asked[key]:
                denials.append(
                    f"{t.field}: user {json.dumps(subject.username)} may not create "
                    f"{plural} in namespace {json.dumps(t.namespace)}"
                )
    return _deny(denials) if denials else ALLOW
