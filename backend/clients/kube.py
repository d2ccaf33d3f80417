"""The Kubernetes API, as the operator and the dashboard use it. Plain dicts (camelCase, as in
manifests) cross this boundary so the domain layer never sees client model classes."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any, cast

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from backend.spec.creator import Creator

_api_client: client.ApiClient | None = None
EVENT_COMPONENT = "faultline-operator"


class KubeError(Exception):
    """A Kubernetes API call failed; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def api_client() -> client.ApiClient:
    """In-cluster config when running in a pod, else the user's kubeconfig (KUBECONFIG)."""
    global _api_client
    if _api_client is None:
        try:
            config.load_incluster_config()  # type: ignore[no-untyped-call]
        except config.ConfigException:
            config.load_kube_config(config_file=os.environ.get("KUBECONFIG") or None)  # type: ignore[no-untyped-call]
        _api_client = client.ApiClient()
    return _api_client


def _plain(obj: Any) -> Any:
    return api_client().sanitize_for_serialization(obj)  # type: ignore[no-untyped-call]


def _wrap(e: ApiException, what: str) -> KubeError:
    return KubeError(f"{what}: {e.status} {e.reason}", status=e.status)


def list_pods(namespaces: list[str] | None) -> list[dict[str, Any]]:
    """Pods of the given namespaces (None: all namespaces) as manifest-shaped dicts."""
    core = client.CoreV1Api(api_client())
    try:
        if namespaces is None:
            items = core.list_pod_for_all_namespaces().items
        else:
            items = [p for ns in namespaces for p in core.list_namespaced_pod(ns).items]
    except ApiException as e:
        raise _wrap(e, "list pods") from e
    return [_plain(p) for p in items]


def node_labels() -> dict[str, dict[str, str]]:
    core = client.CoreV1Api(api_client())
    try:
        nodes = core.list_node().items
    except ApiException as e:
        raise _wrap(e, "list nodes") from e
    return {
        str(n.metadata.name): dict(n.metadata.labels or {}) for n in nodes if n.metadata is not None
    }


def delete_pod(namespace: str, name: str, grace_period: int) -> bool:
    """Delete a pod; False when it was already gone."""
    core = client.CoreV1Api(api_client())
    try:
        core.delete_namespaced_pod(name, namespace, grace_period_seconds=grace_period)
    except ApiException as e:
        if e.status == 404:
            return False
        raise _wrap(e, f"delete pod {namespace}/{name}") from e
    return True


def chaosd_endpoints(namespace: str, label_selector: str, port: int, scheme: str) -> dict[str, str]:
    """node name -> base URL of the chaosd pod running there (Ready pods only)."""
    core = client.CoreV1Api(api_client())
    try:
        pods = core.list_namespaced_pod(namespace, label_selector=label_selector).items
    except ApiException as e:
        raise _wrap(e, "list chaosd pods") from e
    out: dict[str, str] = {}
    for p in pods:
        if p.spec is None or p.status is None:
            continue
        ready = any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
        if ready and p.spec.node_name and p.status.pod_ip:
            out[p.spec.node_name] = f"{scheme}://{p.status.pod_ip}:{port}"
    return out


def get_pod(namespace: str, name: str) -> dict[str, Any] | None:
    """One pod as a manifest-shaped dict; None when it is gone."""
    core = client.CoreV1Api(api_client())
    try:
        return dict(_plain(core.read_namespaced_pod(name, namespace)))
    except ApiException as e:
        if e.status == 404:
            return None
        raise _wrap(e, f"get pod {namespace}/{name}") from e


def patch_pod(namespace: str, name: str, patch: dict[str, Any]) -> None:
    """Strategic-merge patch a pod (containers merge by name)."""
    core = client.CoreV1Api(api_client())
    try:
        core.patch_namespaced_pod(name, namespace, patch)
    except ApiException as e:
        raise _wrap(e, f"patch pod {namespace}/{name}") from e


def namespace_annotations(name: str) -> dict[str, str]:
    core = client.CoreV1Api(api_client())
    try:
        meta = core.read_namespace(name).metadata
    except ApiException as e:
        if e.status == 404:
            return {}
        raise _wrap(e, f"get namespace {name}") from e
    return dict((meta.annotations if meta else None) or {})


def config_map_data(namespace: str, name: str) -> dict[str, str] | None:
    """A ConfigMap's data; None when it does not exist."""
    core = client.CoreV1Api(api_client())
    try:
        return dict(core.read_namespaced_config_map(name, namespace).data or {})
    except ApiException as e:
        if e.status == 404:
            return None
        raise _wrap(e, f"get configmap {namespace}/{name}") from e


def get_chaos(group: str, version: str, plural: str, namespace: str, name: str) -> dict[str, Any]:
    """One custom object (a chaos object) as a dict; KubeError(status=404) when gone."""
    api = client.CustomObjectsApi(api_client())
    try:
        found = api.get_namespaced_custom_object(group, version, namespace, plural, name)
    except ApiException as e:
        raise _wrap(e, f"get {plural} {namespace}/{name}") from e
    return cast(dict[str, Any], found)


def patch_chaos_status(
    group: str, version: str, plural: str, namespace: str, name: str, status: dict[str, Any]
) -> None:
    api = client.CustomObjectsApi(api_client())
    try:
        api.patch_namespaced_custom_object_status(
            group, version, namespace, plural, name, {"status": status}
        )
    except ApiException as e:
        raise _wrap(e, f"patch {plural} {namespace}/{name} status") from e


def post_event(involved: dict[str, str], type_: str, reason: str, message: str) -> None:
    """A Kubernetes Event on one of Faultline's objects (`kubectl describe` lists it).
    `involved` is the object reference: apiVersion, kind, name, namespace, uid."""
    now = datetime.now(UTC).isoformat()
    event: Any = {
        "metadata": {"generateName": f"{involved['name'][:200]}."},
        "involvedObject": involved,
        "type": type_,
        "reason": reason,
        "message": message[:1024],
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "source": {"component": EVENT_COMPONENT},
        "reportingComponent": EVENT_COMPONENT,
    }
    where = f"{involved['kind']} {involved['namespace']}/{involved['name']}"
    try:
        client.CoreV1Api(api_client()).create_namespaced_event(involved["namespace"], event)
    except ApiException as e:
        raise _wrap(e, f"post event on {where}") from e


def review_access(
    authz: client.AuthorizationV1Api,
    user: Creator,
    verb: str,
    group: str,
    resource: str,
    namespace: str = "",
) -> tuple[bool, str]:
    """One SubjectAccessReview for `user` exactly as the API server authenticated them
    (username, uid, groups and extra): (allowed, the authorizer's reason). The webhook and the
    dashboard both ask through here. Raises ApiException for the caller to explain."""
    attributes: dict[str, Any] = {"verb": verb, "group": group, "resource": resource}
    if namespace:
        attributes["namespace"] = namespace
    review = client.V1SubjectAccessReview(
        spec=client.V1SubjectAccessReviewSpec(
            user=user.username,
            uid=user.uid or None,
            groups=list(user.groups) or None,
            extra={k: list(v) for k, v in user.extra.items()} or None,
            resource_attributes=client.V1ResourceAttributes(**attributes),
        )
    )
    status: Any = authz.create_subject_access_review(review).status
    if status is None:
        return False, "the authorizer gave no answer"
    allowed = bool(status.allowed) and not status.denied
    return allowed, status.reason or ("" if allowed else "no RBAC rule allows it")


def user_may(
    user: Creator, verb: str, group: str, resource: str, namespace: str
) -> tuple[bool, str]:
    """A SubjectAccessReview for `user`: (allowed, the authorizer's reason)."""
    try:
        authz = client.AuthorizationV1Api(api_client())
        return review_access(authz, user, verb, group, resource, namespace)
    except ApiException as e:
        raise _wrap(e, f"SubjectAccessReview for {user.username}") from e
