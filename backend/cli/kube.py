"""The Kubernetes API as the CLI needs it: Faultline objects by kind, and errors sorted into the
exit-code tiers (the API server rejected the manifest vs. the cluster could not be reached).

Plain dicts cross this boundary.
"""

from __future__ import annotations

import json
import os
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from backend.cli.errors import AlreadyExistsError, ClusterError, NotFoundError, RejectedError
from backend.spec.kinds import GROUP, KINDS, VERSION, Kind

FIELD_MANAGER = "faultline-cli"


def _rejected(e: ApiException) -> RejectedError:
    try:
        body = json.loads(e.body or "{}")
    except ValueError:
        body = {}
    causes = [
        f"{c['field']}: {c['message']}" if c.get("field") else str(c.get("message"))
        for c in (body.get("details") or {}).get("causes", [])
    ]
    return RejectedError(str(body.get("message") or e.reason), causes)


class Kube:
    def __init__(self) -> None:
        try:
            # KUBECONFIG is read now, not when the kubernetes package was imported: the CLI can
            # run inside a process whose environment changed since (CliRunner, embedding).
            path = os.environ.get("KUBECONFIG") or None
            self.api = config.new_client_from_config(config_file=path)  # type: ignore[no-untyped-call]
            _contexts, active = config.list_kube_config_contexts(config_file=path)  # type: ignore[no-untyped-call]
            self.default_namespace = str(
                (active or {}).get("context", {}).get("namespace") or "default"
            )
        except (config.ConfigException, OSError) as e:
            try:
                config.load_incluster_config()  # type: ignore[no-untyped-call]
            except config.ConfigException:
                raise ClusterError(f"no usable kubeconfig (set KUBECONFIG): {e}") from e
            self.api = client.ApiClient()
            self.default_namespace = "default"
        # One quick attempt per call: a dead cluster should fail the run, not hang it.
        self.api.configuration.retries = 1
        self.custom = client.CustomObjectsApi(self.api)
        self.core = client.CoreV1Api(self.api)

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ApiException as e:
            if e.status == 422:
                raise _rejected(e) from e
            if e.status == 404:
                raise NotFoundError(f"{what}: not found") from e
            if e.status == 409 and what.startswith("create"):
                hint = "delete it first (faultline abort KIND NAME) or use another name"
                raise AlreadyExistsError(f"{what}: it already exists; {hint}") from e
            raise ClusterError(f"{what}: {e.status} {e.reason}: {_message(e)}") from e
        except (urllib3.exceptions.HTTPError, OSError) as e:
            host = self.api.configuration.host
            raise ClusterError(f"{what}: cannot reach the cluster at {host}: {e}") from e

    def create(self, doc: dict[str, Any], namespace: str) -> dict[str, Any]:
        kind = KINDS[doc["kind"]]
        what = f"create {kind.kind}/{doc['metadata']['name']}"
        return self._call(  # type: ignore[no-any-return]
            what,
            self.custom.create_namespaced_custom_object,
            GROUP,
            VERSION,
            namespace,
            kind.plural,
            doc,
            field_manager=FIELD_MANAGER,
        )

    def apply(self, doc: dict[str, Any], namespace: str) -> dict[str, Any]:
        """Server-side apply, so re-applying the same file is harmless."""
        kind = KINDS[doc["kind"]]
        name = doc["metadata"]["name"]
        resp = self._call(
            f"apply {kind.kind}/{name}",
            self.custom.patch_namespaced_custom_object,
            GROUP,
            VERSION,
            namespace,
            kind.plural,
            name,
            doc,
            field_manager=FIELD_MANAGER,
            force=True,
            _content_type="application/apply-patch+yaml",
            _preload_content=False,  # the generated client cannot decode an apply response
        )
        return json.loads(resp.data)  # type: ignore[no-any-return]

    def get(self, kind: Kind, namespace: str, name: str) -> dict[str, Any]:
        return self._call(  # type: ignore[no-any-return]
            f"get {kind.kind}/{name}",
            self.custom.get_namespaced_custom_object,
            GROUP,
            VERSION,
            namespace,
            kind.plural,
            name,
        )

    def list_objects(self, kind: Kind, namespace: str | None) -> list[dict[str, Any]]:
        """Objects of one kind in a namespace (None: every namespace)."""
        what = f"list {kind.plural}"
        if namespace is None:
            found = self._call(
                what, self.custom.list_cluster_custom_object, GROUP, VERSION, kind.plural
            )
        else:
            found = self._call(
                what,
                self.custom.list_namespaced_custom_object,
                GROUP,
                VERSION,
                namespace,
                kind.plural,
            )
        return list(found.get("items", []))

    def delete(self, kind: Kind, namespace: str, name: str) -> None:
        self._call(
            f"delete {kind.kind}/{name}",
            self.custom.delete_namespaced_custom_object,
            GROUP,
            VERSION,
            namespace,
            kind.plural,
            name,
        )

    def annotate(self, kind: Kind, namespace: str, name: str, key: str, value: str | None) -> None:
        """Set (or with None remove) one annotation with a merge patch."""
        body = {"metadata": {"annotations": {key: value}}}
        self._call(
            f"annotate {kind.kind}/{name}",
            self.custom.patch_namespaced_custom_object,
            GROUP,
            VERSION,
            namespace,
            kind.plural,
            name,
            body,
            _content_type="application/merge-patch+json",
        )

    def events(self, namespace: str, name: str) -> list[dict[str, Any]]:
        """Kubernetes Events about the named object, oldest first."""
        found = self._call(
            "list events",
            self.core.list_namespaced_event,
            namespace,
            field_selector=f"involvedObject.name={name}",
        )
        items = [self.api.sanitize_for_serialization(e) for e in found.items]
        return sorted(items, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime")))

    def config_map_data(self, namespace: str, name: str) -> dict[str, str] | None:
        """A ConfigMap's data, or None when there is no such ConfigMap."""
        try:
            found = self._call(
                f"get ConfigMap {namespace}/{name}",
                self.core.read_namespaced_config_map,
                name,
                namespace,
            )
        except NotFoundError:
            return None
        return dict(found.data or {})

    def merge_config_map(self, namespace: str, name: str, data: dict[str, str | None]) -> None:
        """Merge `data` into a ConfigMap (a None value removes the key), creating it if absent."""
        what = f"patch ConfigMap {namespace}/{name}"
        try:
            self._call(
                what,
                self.core.patch_namespaced_config_map,
                name,
                namespace,
                {"data": data},
                field_manager=FIELD_MANAGER,
                _content_type="application/merge-patch+json",
            )
            return
        except NotFoundError:
            pass
        body = {
            "metadata": {"name": name, "namespace": namespace},
            "data": {k: v for k, v in data.items() if v is not None},
        }
        self._call(
            f"create ConfigMap {namespace}/{name}",
            self.core.create_namespaced_config_map,
            namespace,
            body,
            field_manager=FIELD_MANAGER,
        )

    def whoami(self) -> str:
        """The user the cluster authenticates us as (a SelfSubjectReview), or the kubeconfig's
        user name where that API is off (before Kubernetes 1.28, or forbidden)."""
        try:
            review = self._call(
                "review who we are",
                client.AuthenticationV1Api(self.api).create_self_subject_review,
                {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
            )
            name = review.status.user_info.username if review.status else None
            if name:
                return str(name)
        except ClusterError:
            pass
        try:
            _contexts, active = config.list_kube_config_contexts()  # type: ignore[no-untyped-call]
        except (config.ConfigException, OSError):
            return "unknown"
        return str((active or {}).get("context", {}).get("user") or "unknown")


def _message(e: ApiException) -> str:
    try:
        return str(json.loads(e.body or "{}").get("message") or "")
    except ValueError:
        return str(e.body or "")
