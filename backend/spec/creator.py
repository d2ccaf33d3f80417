"""Who a chaos object acts for: the user recorded on it at admission.

A chaos object is allowed to hurt only what its creator may hurt. The admission webhook records
the requesting user (from the AdmissionReview's userInfo) in one annotation when the object is
created, refuses any later change to it, and judges every target namespace as that user. Objects
the operator makes from a parent (a Schedule's children, an Experiment's faults) and objects the
dashboard makes for a signed-in user carry the parent's or the user's record, so they are judged
as that person, never as the privileged account that wrote them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from backend.spec.kinds import GROUP

CREATED_BY_ANNOTATION = f"{GROUP}/created-by"


@dataclass(frozen=True)
class Creator:
    """A Kubernetes user as the API server authenticated them (authentication.k8s.io UserInfo)."""

    username: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def encode(self) -> str:
        """The annotation value: compact JSON with sorted keys, so equal users compare equal."""
        doc: dict[str, Any] = {"username": self.username}
        if self.uid:
            doc["uid"] = self.uid
        if self.groups:
            doc["groups"] = list(self.groups)
        if self.extra:
            doc["extra"] = {k: list(v) for k, v in sorted(self.extra.items())}
        return json.dumps(doc, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_user_info(cls, info: dict[str, Any]) -> Creator:
        """From an AdmissionReview's `request.userInfo` (or the annotation's JSON)."""
        extra = info.get("extra") or {}
        return cls(
            username=str(info.get("username", "")),
            uid=str(info.get("uid", "") or ""),
            groups=tuple(str(g) for g in info.get("groups") or ()),
            extra={str(k): tuple(str(x) for x in v or ()) for k, v in extra.items()},
        )

    @classmethod
    def decode(cls, value: str) -> Creator | None:
        """The creator recorded in an annotation value, or None when it is not a valid record."""
        try:
            info = json.loads(value)
        except (TypeError, ValueError):
            return None
        if not isinstance(info, dict) or not isinstance(info.get("username"), str):
            return None
        if not info["username"]:
            return None
        return cls.from_user_info(info)


def recorded_creator(obj: Mapping[str, Any]) -> Creator | None:
    """The creator recorded on a Kubernetes object, if any."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(CREATED_BY_ANNOTATION)
    return Creator.decode(value) if isinstance(value, str) else None


def with_creator(manifest: dict[str, Any], creator: Creator | None) -> dict[str, Any]:
    """`manifest` with the creator's record set (a copy; nothing changes when creator is None)."""
    if creator is None:
        return manifest
    meta = dict(manifest.get("metadata") or {})
    annotations = {**(meta.get("annotations") or {}), CREATED_BY_ANNOTATION: creator.encode()}
    meta["annotations"] = annotations
    return {**manifest, "metadata": meta}
