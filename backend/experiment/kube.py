"""The Kubernetes calls the experiment engine makes: its child chaos objects, its status, and
the probe Jobs. Blocking calls; the runner runs them in a worker thread."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from backend.clients import kube as kube_client
from backend.clients.kube import KubeError, api_client
from backend.experiment.faults import plural_of
from backend.spec.kinds import API_VERSION, GROUP, VERSION


def _custom() -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client())


def create_chaos(manifest: dict[str, Any]) -> str:
    """Create (or adopt an existing, e.g. after a restart) child; returns its uid."""
    meta = manifest["metadata"]
    plural = plural_of(manifest["kind"])
    try:
        made = cast(
            dict[str, Any],
            _custom().create_namespaced_custom_object(
                GROUP, VERSION, meta["namespace"], plural, manifest
            ),
        )
    except ApiException as e:
        if e.status != 409:
            raise KubeError(
                f"create {manifest['kind']} {meta['name']}: {e.reason}: {e.body}"
            ) from e
        made = cast(
            dict[str, Any],
            _custom().get_namespaced_custom_object(
                GROUP, VERSION, meta["namespace"], plural, meta["name"]
            ),
        )
    return str(made["metadata"]["uid"])


def delete_chaos(kind: str, namespace: str, name: str) -> None:
    try:
        _custom().delete_namespaced_custom_object(GROUP, VERSION, namespace, plural_of(kind), name)
    except ApiException as e:
        if e.status != 404:
            raise KubeError(f"delete {kind} {name}: {e.reason}", e.status) from e


def get_chaos(kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    """The child chaos object (None once it is gone)."""
    try:
        found = _custom().get_namespaced_custom_object(
            GROUP, VERSION, namespace, plural_of(kind), name
        )
        return cast(dict[str, Any], found)
    except ApiException as e:
        if e.status == 404:
            return None
        raise KubeError(f"get {kind} {name}: {e.reason}", e.status) from e


def chaos_exists(kind: str, namespace: str, name: str) -> bool:
    return get_chaos(kind, namespace, name) is not None


def post_event(namespace: str, name: str, uid: str, type_: str, reason: str, message: str) -> None:
    """A Kubernetes Event on the Experiment (`kubectl describe experiment` lists it)."""
    involved = {"apiVersion": API_VERSION, "kind": "Experiment", "name": name,
                "namespace": namespace, "uid": uid}  # fmt: skip
    kube_client.post_event(involved, type_, reason, message)


def get_experiment(namespace: str, name: str) -> dict[str, Any]:
    try:
        found = _custom().get_namespaced_custom_object(
            GROUP, VERSION, namespace, "experiments", name
        )
        return cast(dict[str, Any], found)
    except ApiException as e:
        raise KubeError(f"get experiment {name}: {e.reason}", e.status) from e


def patch_status(
    namespace: str, name: str, status: dict[str, Any], resource_version: str | None = None
) -> None:
    """Merge-patch the status; with `resource_version`, fail with 409 if the object changed."""
    body: dict[str, Any] = {"status": status}
    if resource_version:
        body["metadata"] = {"resourceVersion": resource_version}
    try:
        _custom().patch_namespaced_custom_object_status(
            GROUP, VERSION, namespace, "experiments", name, body
        )
    except ApiException as e:
        raise KubeError(f"patch experiment {name} status: {e.reason}", e.status) from e


def create_job(namespace: str, manifest: dict[str, Any]) -> None:
    try:
        # The generated client takes a manifest dict as well as a V1Job (it sends dicts as is).
        client.BatchV1Api(api_client()).create_namespaced_job(namespace, manifest)  # type: ignore[arg-type]
    except ApiException as e:
        if e.status != 409:
            raise KubeError(f"create job: {e.reason}: {e.body}", e.status) from e


def delete_job(namespace: str, name: str) -> None:
    try:
        client.BatchV1Api(api_client()).delete_namespaced_job(
            name, namespace, propagation_policy="Background"
        )
    except ApiException as e:
        if e.status != 404:
            raise KubeError(f"delete job {name}: {e.reason}", e.status) from e


def job_pod(namespace: str, job: str) -> dict[str, Any] | None:
    """The newest pod of a Job, as a manifest-shaped dict (None while there is none)."""
    core = client.CoreV1Api(api_client())
    try:
        pods = core.list_namespaced_pod(namespace, label_selector=f"job-name={job}").items
    except ApiException as e:
        raise KubeError(f"list pods of job {job}: {e.reason}", e.status) from e
    if not pods:
        return None
    never = datetime.min.replace(tzinfo=UTC)
    newest = max(pods, key=lambda p: (p.metadata and p.metadata.creation_timestamp) or never)
    return dict(api_client().sanitize_for_serialization(newest))  # type: ignore[no-untyped-call]


def pod_log(namespace: str, pod: str) -> str:
    core = client.CoreV1Api(api_client())
    try:
        return str(core.read_namespaced_pod_log(pod, namespace))
    except ApiException as e:
        if e.status in (400, 404):  # container not started yet / gone
            return ""
        raise KubeError(f"read log of {pod}: {e.reason}", e.status) from e
