"""The core and batch APIs as Faultline uses them: pods (the targets), their logs and the probe
Jobs, ConfigMaps (the emergency stop's flag), Events, Namespaces, Nodes and Services."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kubernetes import client

from backend.clients.kube.errors import BadRequest, NotFound, Op

if TYPE_CHECKING:
    from backend.clients.kube.client import Kube

EVENT_COMPONENT = "faultline-operator"
MERGE_PATCH = "application/merge-patch+json"


def _in(namespace: str | None) -> str:
    return f"in {namespace}" if namespace else "everywhere"


class Core:
    def __init__(self, kube: Kube) -> None:
        self._kube = kube

    def _api(self) -> client.CoreV1Api:
        return client.CoreV1Api(self._kube.api)

    def list_pods(
        self, namespaces: list[str] | None, *, label_selector: str = ""
    ) -> list[dict[str, Any]]:
        """Pods of the given namespaces (None: every namespace), as the API server's JSON.

        Read as it arrives, not through the library's model classes: for a namespace of 51 pods
        the models cost 0.7-1.3 s of CPU on a loaded 2-core node against 0.03-0.4 s, and every
        reconcile lists pods."""
        api, out = self._api(), []
        for namespace in namespaces if namespaces is not None else [None]:
            op = Op("list", "pods", f"pods {_in(namespace)}")
            # Without preloading, the call returns the raw HTTP response (its `.data` is JSON).
            resp: Any = (
                self._kube.call(
                    op, api.list_namespaced_pod, namespace,
                    label_selector=label_selector, _preload_content=False,
                )
                if namespace
                else self._kube.call(
                    op, api.list_pod_for_all_namespaces,
                    label_selector=label_selector, _preload_content=False,
                )
            )  # fmt: skip
            out.extend(json.loads(resp.data)["items"])
        return out

    def get_pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        """One pod, or None when it is gone."""
        op = Op("get", "pods", f"pod {namespace}/{name}")
        try:
            pod = self._kube.call(op, self._api().read_namespaced_pod, name, namespace)
        except NotFound:
            return None
        return dict(self._kube.sanitize(pod))

    def patch_pod(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        """Strategic-merge patch a pod (containers merge by name)."""
        op = Op("patch", "pods", f"pod {namespace}/{name}")
        self._kube.call(op, self._api().patch_namespaced_pod, name, namespace, patch)

    def delete_pod(self, namespace: str, name: str, grace_period: int) -> bool:
        """Delete a pod; False when it was already gone."""
        op = Op("delete", "pods", f"pod {namespace}/{name}")
        try:
            self._kube.call(
                op, self._api().delete_namespaced_pod, name, namespace,
                grace_period_seconds=grace_period,
            )  # fmt: skip
        except NotFound:
            return False
        return True

    def pod_log(self, namespace: str, name: str) -> str:
        """A pod's log; empty while its container has not started, or once the pod is gone."""
        op = Op("get", "pods/log", f"the log of pod {namespace}/{name}", action="read")
        try:
            return str(self._kube.call(op, self._api().read_namespaced_pod_log, name, namespace))
        except (BadRequest, NotFound):
            return ""

    def create_job(self, namespace: str, manifest: dict[str, Any]) -> None:
        """Create a Job; AlreadyExists when one of its name exists."""
        op = Op("create", "jobs.batch", f"Job {namespace}/{manifest['metadata']['name']}")
        api = client.BatchV1Api(self._kube.api)
        self._kube.call(op, api.create_namespaced_job, namespace, manifest)

    def delete_job(self, namespace: str, name: str) -> bool:
        """Delete a Job and then its pods; False when it was already gone."""
        op = Op("delete", "jobs.batch", f"Job {namespace}/{name}")
        api = client.BatchV1Api(self._kube.api)
        try:
            self._kube.call(
                op, api.delete_namespaced_job, name, namespace, propagation_policy="Background"
            )
        except NotFound:
            return False
        return True

    def config_map(self, namespace: str, name: str) -> dict[str, str] | None:
        """A ConfigMap's data; None when there is no such ConfigMap."""
        op = Op("get", "configmaps", f"ConfigMap {namespace}/{name}")
        try:
            found = self._kube.call(op, self._api().read_namespaced_config_map, name, namespace)
        except NotFound:
            return None
        return dict(found.data or {})

    def merge_config_map(
        self,
        namespace: str,
        name: str,
        data: dict[str, str | None],
        *,
        field_manager: str | None = None,
    ) -> None:
        """Merge `data` into a ConfigMap (a None value removes the key), creating it if absent."""
        subject = f"ConfigMap {namespace}/{name}"
        manager = {"field_manager": field_manager} if field_manager else {}
        try:
            self._kube.call(
                Op("patch", "configmaps", subject), self._api().patch_namespaced_config_map,
                name, namespace, {"data": data}, _content_type=MERGE_PATCH, **manager,
            )  # fmt: skip
            return
        except NotFound:
            pass
        body = {
            "metadata": {"name": name, "namespace": namespace},
            "data": {k: v for k, v in data.items() if v is not None},
        }
        self._kube.call(
            Op("create", "configmaps", subject), self._api().create_namespaced_config_map,
            namespace, body, **manager,
        )  # fmt: skip

    def post_event(
        self,
        involved: dict[str, str],
        type_: str,
        reason: str,
        message: str,
        *,
        component: str = EVENT_COMPONENT,
    ) -> None:
        """A Kubernetes Event on an object (`kubectl describe` lists it). `involved` is the
        object reference: apiVersion, kind, name, namespace, uid."""
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
            "source": {"component": component},
            "reportingComponent": component,
        }
        where = f"{involved['kind']} {involved['namespace']}/{involved['name']}"
        op = Op("create", "events", f"an event on {where}", action="post")
        self._kube.call(op, self._api().create_namespaced_event, involved["namespace"], event)

    def events_about(self, namespace: str, name: str) -> list[dict[str, Any]]:
        """Events about the named object, oldest first."""
        op = Op("list", "events", f"events in {namespace}")
        found = self._kube.call(
            op, self._api().list_namespaced_event, namespace,
            field_selector=f"involvedObject.name={name}",
        )  # fmt: skip
        items = [self._kube.sanitize(e) for e in found.items]
        return sorted(items, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime")))

    def namespace_annotations(self, name: str) -> dict[str, str]:
        """A namespace's annotations; none when there is no such namespace."""
        op = Op("get", "namespaces", f"namespace {name}")
        try:
            meta = self._kube.call(op, self._api().read_namespace, name).metadata
        except NotFound:
            return {}
        return dict((meta.annotations if meta else None) or {})

    def node_labels(self) -> dict[str, dict[str, str]]:
        """Every node's labels, by node name."""
        nodes = self._kube.call(Op("list", "nodes", "nodes"), self._api().list_node).items
        return {
            str(n.metadata.name): dict(n.metadata.labels or {})
            for n in nodes
            if n.metadata is not None
        }

    def list_services(self, namespace: str, *, label_selector: str) -> list[dict[str, Any]]:
        op = Op("list", "services", f"services in {namespace}")
        found = self._kube.call(
            op, self._api().list_namespaced_service, namespace, label_selector=label_selector
        )
        return [self._kube.sanitize(s) for s in found.items]
