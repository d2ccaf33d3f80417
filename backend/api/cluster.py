"""How the dashboard writes chaos objects: always through the cluster, never into the mirror.

Routes call a `ClusterGateway`: `KubernetesGateway` in cluster mode, `NoClusterGateway` without a
cluster, which refuses with 503 and says why: pretending a write succeeded would show users an
experiment that never runs. A body that fails the CRD schema is refused with a 422 per field
before anything is sent. Each write is then one API call (create, one merge patch, or delete),
so a refused request leaves nothing half-applied; when the API server refuses, the client's
error reaches the one handler in backend/api/errors.py.
"""

from __future__ import annotations

import contextlib
import re
import time
from typing import TYPE_CHECKING, Any, Protocol

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from backend.api.errors import ApiError, ClusterRejected, ClusterUnavailable
from backend.clients import kube
from backend.spec import API_VERSION, KINDS, FieldError, validate_manifest
from backend.spec.creator import Creator, with_creator
from backend.spec.kinds import PAUSE_ANNOTATION, still_running

if TYPE_CHECKING:
    from backend.clients.kube.client import Kube

REPLACE_WAIT_S = 20.0
"""How long a new run waits for the ended one to be gone (the operator drops its finalizer)."""


class ManifestInvalid(ApiError):
    """The chaos object a request describes fails the schema; nothing was sent to the cluster."""

    def __init__(self, kind: str, errors: list[FieldError]) -> None:
        super().__init__(f"{kind} is invalid: " + "; ".join(str(e) for e in errors))
        self.kind = kind
        self.errors = errors


SCHEDULE_BODY_FIELDS = ("schedule", "type")
"""Fields of a Schedule's spec that the API takes at the top of the request body."""


def _loc(kind: str, path: str) -> list[str | int]:
    """`spec.target.selector.pods[0]` -> ["body", "spec", "target", "selector", "pods", 0]."""
    if path == "metadata.name":
        return ["body", "name"]
    head, _, rest = path.removeprefix("spec.").partition(".")
    if kind == "Schedule" and path.startswith("spec.") and head in SCHEDULE_BODY_FIELDS:
        path = f"{head}.{rest}" if rest else head
    parts: list[str | int] = ["body"]
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        parts.append(int(token[1:-1]) if token.startswith("[") else token)
    return parts


async def handle_manifest_invalid(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own 422 shape, one entry per field, so clients show each next to its field."""
    assert isinstance(exc, ManifestInvalid)
    detail = [
        {"loc": _loc(exc.kind, e.path), "msg": str(e), "type": "manifest"} for e in exc.errors
    ]
    return JSONResponse({"detail": detail}, status_code=422)


def install_manifest_error_handler(app: FastAPI) -> None:
    app.add_exception_handler(ManifestInvalid, handle_manifest_invalid)


class ClusterGateway(Protocol):
    def create(
        self, kind: str, namespace: str, name: str, spec: dict[str, Any], *, creator: Creator
    ) -> str:
        """Creates the custom resource, carrying `creator`'s record (the signed-in user, whom
        the admission webhook and the operator judge it as), and returns its uid."""

    def set_paused(self, kind: str, namespace: str, name: str, paused: bool) -> None:
        """Sets or clears the chaos.faultline.dev/pause annotation."""

    def delete(self, kind: str, namespace: str, name: str) -> None:
        """Deletes the custom resource (the operator recovers the fault first)."""

    def replace_ended(
        self, kind: str, namespace: str, name: str, spec: dict[str, Any], *, creator: Creator
    ) -> str:
        """Creates the custom resource again when one of that name has run to its end: the old
        one is deleted and gone first. One still running is refused (409). Returns the uid."""


class NoClusterGateway:
    """The gateway of local mode: every write explains that a cluster is needed."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def _refuse(self, action: str, kind: str, namespace: str, name: str) -> ClusterUnavailable:
        return ClusterUnavailable(
            f"cannot {action} {kind} {namespace}/{name}: no Kubernetes cluster is connected "
            f"({self.reason}); chaos objects are written to the cluster, so start the dashboard "
            "in cluster mode (FAULTLINE_MODE=cluster) or use `kubectl apply` / `kubectl delete`"
        )

    def create(
        self, kind: str, namespace: str, name: str, spec: dict[str, Any], *, creator: Creator
    ) -> str:
        raise self._refuse("create", kind, namespace, name)

    def set_paused(self, kind: str, namespace: str, name: str, paused: bool) -> None:
        raise self._refuse("pause" if paused else "resume", kind, namespace, name)

    def delete(self, kind: str, namespace: str, name: str) -> None:
        raise self._refuse("delete", kind, namespace, name)

    def replace_ended(
        self, kind: str, namespace: str, name: str, spec: dict[str, Any], *, creator: Creator
    ) -> str:
        raise self._refuse("create", kind, namespace, name)


class KubernetesGateway:
    """Writes chaos objects and schedules with the dashboard's own Kubernetes credentials; the
    caller's permission has already been checked with a SubjectAccessReview."""

    def __init__(self, cluster: Kube) -> None:
        self.objects = cluster.objects

    def create(
        self, kind: str, namespace: str, name: str, spec: dict[str, Any], *, creator: Creator
    ) -> str:
        # Written with the dashboard's own account, judged as the user: the admission webhook
        # trusts the dashboard's ServiceAccount to name whom it acts for.
        manifest = with_creator(
            {
                "apiVersion": API_VERSION,
                "kind": kind,
                "metadata": {"name": name, "namespace": namespace},
                "spec": spec,
            },
            creator,
        )
        errors = validate_manifest(manifest)
        if errors:
            raise ManifestInvalid(kind, errors)
        return str(self.objects.create(manifest)["metadata"]["uid"])

    def set_paused(self, kind: str, namespace: str, name: str, paused: bool) -> None:
        # A merge patch with null removes the annotation; other annotations are left alone.
        patch = {"metadata": {"annotations": {PAUSE_ANNOTATION: "true" if paused else None}}}
        action = "pause" if paused else "resume"
        self.objects.merge_patch(KINDS[kind], namespace, name, patch, action=action)

    def delete(self, kind: str, namespace: str, name: str) -> None:
        self.objects.delete(KINDS[kind], namespace, name)

    def replace_ended(
        self, kind: str, namespace: str, name: str, spec: dict[str, Any], *, creator: Creator
    ) -> str:
        old = self.objects.find(KINDS[kind], namespace, name)
        if old is None:
            return self.create(kind, namespace, name, spec, creator=creator)
        why = still_running(old)
        if why:
            raise ClusterRejected(f"cannot start {kind} {namespace}/{name}: {why}", status=409)
        uid = old["metadata"]["uid"]
        with contextlib.suppress(kube.Conflict):  # replaced by someone else: told apart below
            self.objects.delete(KINDS[kind], namespace, name, missing_ok=True, uid=uid)
        deadline = time.monotonic() + REPLACE_WAIT_S
        while (now := self.objects.find(KINDS[kind], namespace, name)) is not None:
            if now["metadata"]["uid"] != uid:
                raise ClusterRejected(
                    f"cannot start {kind} {namespace}/{name}: someone created it again meanwhile",
                    status=409,
                )
            if time.monotonic() > deadline:
                raise ClusterRejected(
                    f"cannot start {kind} {namespace}/{name}: its earlier run is still being "
                    f"deleted after {REPLACE_WAIT_S:.0f} s (the operator removes its finalizer; "
                    "is the operator running?); try again in a moment",
                    status=409,
                )
            time.sleep(0.5)
        return self.create(kind, namespace, name, spec, creator=creator)
