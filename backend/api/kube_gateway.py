"""The cluster-mode `ClusterGateway`: dashboard writes become custom-resource calls.

Every write is checked with the offline validator first, so a bad body is refused with field
paths and nothing reaches the cluster; each write is then one API call (create, one merge patch,
or delete), so a refused request leaves nothing half-applied. When the API server still refuses
(admission, quota, unknown namespace), its own message is passed on as a 422.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from backend.api.cluster import ManifestInvalid
from backend.api.errors import ClusterRejected, ClusterUnavailable
from backend.db.errors import NotFound
from backend.spec import API_VERSION, GROUP, KINDS, VERSION, validate_manifest
from backend.spec.creator import Creator, with_creator
from backend.spec.kinds import PAUSE_ANNOTATION, still_running

MERGE_PATCH = "application/merge-patch+json"
REPLACE_WAIT_S = 20.0
"""How long a new run waits for the ended one to be gone (the operator drops its finalizer)."""


def connect(kubeconfig: Path | None = None) -> client.ApiClient:
    """In-cluster credentials when running in a pod, else the kubeconfig (`kubeconfig`,
    $KUBECONFIG or ~/.kube/config), so the same dashboard runs in the cluster and on a laptop.
    The client is private to the caller: no global configuration is changed."""
    configuration = client.Configuration()
    try:
        config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    except config.ConfigException:
        # None: the library's default, which also merges a colon-separated $KUBECONFIG.
        path = str(kubeconfig) if kubeconfig else None
        try:
            api: client.ApiClient = config.new_client_from_config(config_file=path)  # type: ignore[no-untyped-call]
        except (config.ConfigException, OSError) as e:
            raise ClusterUnavailable(
                "cluster mode needs Kubernetes credentials: not running in a pod, and no usable "
                f"kubeconfig ({e}); set FAULTLINE_KUBECONFIG or KUBECONFIG"
            ) from e
        return api
    return client.ApiClient(configuration)


def server_message(e: ApiException) -> str:
    """The API server's own explanation (Status.message), else the HTTP reason."""
    try:
        body = json.loads(e.body or "")
    except (TypeError, ValueError):
        body = None
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return f"HTTP {e.status} {e.reason}"


def _is_rbac_denial(message: str) -> bool:
    # RBAC says `User "x" cannot create resource ...`; a 403 from admission (e.g. an exceeded
    # ResourceQuota) is a rejection of this object, not a problem of the dashboard's account.
    return " cannot " in message and " resource " in message


class KubernetesGateway:
    """Writes chaos objects and schedules with the dashboard's own Kubernetes credentials; the
    caller's permission has already been checked with a SubjectAccessReview."""

    def __init__(self, api_client: client.ApiClient) -> None:
        self.objects = client.CustomObjectsApi(api_client)

    def _fail(
        self, e: ApiException, action: str, kind: str, namespace: str, name: str
    ) -> Exception:
        message = server_message(e)
        what = f"{kind} {namespace}/{name}"
        if e.status in (None, 0) or (e.status >= 500):
            return ClusterUnavailable(
                f"could not {action} {what}: the Kubernetes API server did not answer ({message})"
            )
        if e.status == 401 or (e.status == 403 and _is_rbac_denial(message)):
            return ClusterUnavailable(
                f"could not {action} {what}: the dashboard's own Kubernetes account was refused "
                f"({message}); give its ServiceAccount {action} on "
                f"{KINDS[kind].plural}.{GROUP} (the Helm chart's ClusterRole does)"
            )
        if e.status == 404 and action != "create":
            return NotFound(kind, f"{namespace}/{name}")
        if e.status == 409:
            return ClusterRejected(f"cannot {action} {what}: {message}", status=409)
        return ClusterRejected(f"the Kubernetes API server refused to {action} {what}: {message}")

    def create(
        self, kind: str, namespace: str, name: str, spec: dict[str, Any], *, creator: Creator
    ) -> str:
        info = KINDS[kind]
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
        try:
            created: Any = self.objects.create_namespaced_custom_object(
                GROUP, VERSION, namespace, info.plural, manifest
            )
        except ApiException as e:
            raise self._fail(e, "create", kind, namespace, name) from e
        return str(created["metadata"]["uid"])

    def set_paused(self, kind: str, namespace: str, name: str, paused: bool) -> None:
        # A merge patch with null removes the annotation; other annotations are left alone.
        value = "true" if paused else None
        patch = {"metadata": {"annotations": {PAUSE_ANNOTATION: value}}}
        try:
            self.objects.patch_namespaced_custom_object(
                GROUP, VERSION, namespace, KINDS[kind].plural, name, patch,
                _content_type=MERGE_PATCH,
            )  # fmt: skip
        except ApiException as e:
            raise self._fail(e, "pause" if paused else "resume", kind, namespace, name) from e

    def delete(self, kind: str, namespace: str, name: str) -> None:
        try:
            self.objects.delete_namespaced_custom_object(
                GROUP, VERSION, namespace, KINDS[kind].plural, name
            )
        except ApiException as e:
            raise self._fail(e, "delete", kind, namespace, name) from e

    def _get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            found: Any = self.objects.get_namespaced_custom_object(
                GROUP, VERSION, namespace, KINDS[kind].plural, name
            )
        except ApiException as e:
            if e.status == 404:
                return None
            raise self._fail(e, "get", kind, namespace, name) from e
        return dict(found)

    def replace_ended(
        self, kind: str, namespace: str, name: str, spec: dict[str, Any], *, creator: Creator
    ) -> str:
        old = self._get(kind, namespace, name)
        if old is None:
            return self.create(kind, namespace, name, spec, creator=creator)
        why = still_running(old)
        if why:
            raise ClusterRejected(f"cannot start {kind} {namespace}/{name}: {why}", status=409)
        uid = old["metadata"]["uid"]
        try:
            self.objects.delete_namespaced_custom_object(
                GROUP, VERSION, namespace, KINDS[kind].plural, name,
                body=client.V1DeleteOptions(preconditions=client.V1Preconditions(uid=uid)),
            )  # fmt: skip
        except ApiException as e:
            if e.status not in (404, 409):  # gone already, or replaced by someone else
                raise self._fail(e, "delete", kind, namespace, name) from e
        deadline = time.monotonic() + REPLACE_WAIT_S
        while (now := self._get(kind, namespace, name)) is not None:
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
