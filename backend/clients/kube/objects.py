"""Faultline's own kinds (backend/spec/kinds.py) through the custom objects API, as dicts, and
the watch the dashboard's mirror follows."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import urllib3
from kubernetes import client
from kubernetes.watch.watch import iter_resp_lines

from backend.clients.kube.errors import KubeError, NotFound, Op, by_status, status_error
from backend.spec.kinds import GROUP, KINDS, VERSION, Kind

if TYPE_CHECKING:
    from backend.clients.kube.client import Kube

MERGE_PATCH = "application/merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"


def _op(verb: str, kind: Kind, namespace: str | None, name: str = "", action: str = "") -> Op:
    if name:
        subject = f"{kind.kind} {namespace}/{name}"
    else:
        subject = f"{kind.plural} in {namespace}" if namespace else f"{kind.plural} everywhere"
    return Op(verb, kind.crd_name, subject, action)


def _dict(found: object) -> dict[str, Any]:
    # The library declares its custom-object calls as returning `object`: they return the JSON.
    return cast(dict[str, Any], found)


class CustomObjects:
    def __init__(self, kube: Kube) -> None:
        self._kube = kube

    def _api(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self._kube.api)

    def get(self, kind: Kind, namespace: str, name: str) -> dict[str, Any]:
        op = _op("get", kind, namespace, name)
        api = self._api()
        found = self._kube.call(
            op, api.get_namespaced_custom_object, GROUP, VERSION, namespace, kind.plural, name
        )
        return _dict(found)

    def find(self, kind: Kind, namespace: str, name: str) -> dict[str, Any] | None:
        """The object, or None when there is none."""
        try:
            return self.get(kind, namespace, name)
        except NotFound:
            return None

    def items(
        self, kind: Kind, namespace: str | None, *, label_selector: str = ""
    ) -> list[dict[str, Any]]:
        """Objects of one kind in a namespace (None: every namespace)."""
        return list(self.listing(kind, namespace, label_selector=label_selector)["items"])

    def listing(
        self, kind: Kind, namespace: str | None, *, label_selector: str = ""
    ) -> dict[str, Any]:
        """The List itself: `items`, and `metadata.resourceVersion` to watch from."""
        op, api = _op("list", kind, namespace), self._api()
        found = (
            self._kube.call(
                op, api.list_namespaced_custom_object, GROUP, VERSION, namespace, kind.plural,
                label_selector=label_selector,
            )
            if namespace
            else self._kube.call(
                op, api.list_cluster_custom_object, GROUP, VERSION, kind.plural,
                label_selector=label_selector,
            )
        )  # fmt: skip
        return _dict(found)

    def create(
        self, manifest: dict[str, Any], *, field_manager: str | None = None
    ) -> dict[str, Any]:
        """Create the object in its metadata.namespace; AlreadyExists when the name is taken."""
        kind, meta = KINDS[manifest["kind"]], manifest["metadata"]
        op = _op("create", kind, meta["namespace"], meta["name"])
        extra = {"field_manager": field_manager} if field_manager else {}
        found = self._kube.call(
            op, self._api().create_namespaced_custom_object,
            GROUP, VERSION, meta["namespace"], kind.plural, manifest, **extra,
        )  # fmt: skip
        return _dict(found)

    def apply(self, manifest: dict[str, Any], *, field_manager: str) -> dict[str, Any]:
        """Server-side apply (forced), so applying the same manifest again is harmless."""
        kind, meta = KINDS[manifest["kind"]], manifest["metadata"]
        op = _op("patch", kind, meta["namespace"], meta["name"], action="apply")
        resp: Any = self._kube.call(
            op, self._api().patch_namespaced_custom_object,
            GROUP, VERSION, meta["namespace"], kind.plural, meta["name"], manifest,
            field_manager=field_manager, force=True, _content_type=APPLY_PATCH,
            _preload_content=False,  # the generated client cannot decode an apply response
        )  # fmt: skip
        return _dict(json.loads(resp.data))

    def merge_patch(
        self, kind: Kind, namespace: str, name: str, patch: dict[str, Any], *, action: str = ""
    ) -> dict[str, Any]:
        """A JSON merge patch: a None value removes the field, others are left alone."""
        op = _op("patch", kind, namespace, name, action)
        found = self._kube.call(
            op, self._api().patch_namespaced_custom_object,
            GROUP, VERSION, namespace, kind.plural, name, patch, _content_type=MERGE_PATCH,
        )  # fmt: skip
        return _dict(found)

    def patch_status(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        status: dict[str, Any],
        *,
        resource_version: str | None = None,
    ) -> None:
        """Merge-patch the status; with `resource_version`, Conflict if the object changed."""
        body: dict[str, Any] = {"status": status}
        if resource_version:
            body["metadata"] = {"resourceVersion": resource_version}
        op = _op("patch", kind, namespace, name, action="write the status of")
        self._kube.call(
            op, self._api().patch_namespaced_custom_object_status,
            GROUP, VERSION, namespace, kind.plural, name, body, _content_type=MERGE_PATCH,
        )  # fmt: skip

    def delete(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        *,
        missing_ok: bool = False,
        uid: str | None = None,
        background: bool = False,
    ) -> bool:
        """Delete the object: NotFound when there is none, or with `missing_ok` False. With
        `uid`, only that incarnation (Conflict when the name now belongs to another);
        `background`: its dependents are deleted by the garbage collector afterwards."""
        op = _op("delete", kind, namespace, name)
        options = client.V1DeleteOptions(
            preconditions=client.V1Preconditions(uid=uid) if uid else None,
            propagation_policy="Background" if background else None,
        )
        try:
            self._kube.call(
                op, self._api().delete_namespaced_custom_object,
                GROUP, VERSION, namespace, kind.plural, name, body=options,
            )  # fmt: skip
        except NotFound:
            if not missing_ok:
                raise
            return False
        return True

    def watch(self, kind: Kind, resource_version: str, *, timeout_seconds: int) -> Watch:
        """Open a watch of `kind` in every namespace from `resource_version` (with bookmarks);
        the server ends it after `timeout_seconds`."""
        op = _op("watch", kind, None)
        resp: Any = self._kube.call(
            op, self._api().list_cluster_custom_object, GROUP, VERSION, kind.plural,
            watch=True, resource_version=resource_version, allow_watch_bookmarks=True,
            timeout_seconds=timeout_seconds, _preload_content=False,
        )  # fmt: skip
        if not 200 <= resp.status < 300:
            body = resp.data
            resp.release_conn()
            raise status_error(op, resp.status, str(resp.reason or ""), body)
        return Watch(resp, op)


class Watch:
    """One open watch: its events (ADDED, MODIFIED, DELETED, BOOKMARK) as dicts, until the server
    ends it. An ERROR event is raised as its error (Gone when the version expired)."""

    def __init__(self, resp: Any, op: Op) -> None:
        self._resp = resp
        self._op = op

    def __iter__(self) -> Iterator[dict[str, Any]]:
        try:
            for line in iter_resp_lines(self._resp):  # type: ignore[no-untyped-call]
                if not line:
                    continue
                event: dict[str, Any] = json.loads(line)
                if event.get("type") == "ERROR":
                    raise self._error(event.get("object") or {})
                yield event
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise by_status(None)(self._op, f"the watch broke off: {e}") from e

    def _error(self, status: dict[str, Any]) -> KubeError:
        code = status.get("code")
        message = str(status.get("message") or "")
        return by_status(code)(self._op, message, status=code, reason=str(status.get("reason", "")))

    def close(self) -> None:
        """Unblock a read in another thread; an ended response has nothing to do."""
        with contextlib.suppress(Exception):
            self._resp.shutdown()

    def release(self) -> None:
        self._resp.release_conn()
