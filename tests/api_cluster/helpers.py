"""Helpers for the cluster-mode API tests: ServiceAccounts with tokens, reading objects back."""

from __future__ import annotations

import json

import httpx

from backend.spec import GROUP, KINDS
from tests.api.server import RunningServer
from tests.support.cluster import Cluster

TOKEN_HINT = "kubectl -n <namespace> create token <serviceaccount>"


def service_account_token(
    cluster: Cluster, ns: str, name: str, verbs: list[str], resources: list[str]
) -> str:
    """A ServiceAccount bound to a Role with exactly `verbs` on `resources` (plurals of
    chaos.faultline.dev), and a token for it from the TokenRequest API."""
    cluster.kubectl("-n", ns, "create", "serviceaccount", name)
    if verbs:
        resource_args = ",".join(f"{r}.{GROUP}" for r in resources)
        cluster.kubectl(
            "-n", ns, "create", "role", name, f"--verb={','.join(verbs)}",
            f"--resource={resource_args}",
        )  # fmt: skip
        cluster.kubectl(
            "-n", ns, "create", "rolebinding", name, f"--role={name}",
            f"--serviceaccount={ns}:{name}",
        )  # fmt: skip
    return cluster.kubectl("-n", ns, "create", "token", name).strip()


def get_object(cluster: Cluster, ns: str, kind: str, name: str) -> dict | None:  # type: ignore[type-arg]
    out = cluster.kubectl(
        "-n", ns, "get", f"{KINDS[kind].plural}.{GROUP}", name, "-o", "json",
        "--ignore-not-found",
    )  # fmt: skip
    return json.loads(out) if out.strip() else None


def release_chaos_objects(cluster: Cluster, ns: str) -> None:
    """Deletes every Faultline object of `ns` and drops the operator's finalizer, so an operator
    of another test session that saw these objects cannot hold the namespace in Terminating.
    Nothing here selects a pod, so no fault is left behind by skipping the operator.
    Delete first, then drop the finalizers: once an object is being deleted no finalizer can be
    added to it, so a running operator cannot put one back in between."""
    for kind in KINDS.values():
        resource = f"{kind.plural}.{GROUP}"
        names = cluster.kubectl("-n", ns, "get", resource, "-o", "name").split()
        if names:
            cluster.kubectl("-n", ns, "delete", resource, "--all", "--wait=false", check=False)
        for ref in names:
            cluster.kubectl(
                "-n", ns, "patch", ref, "--type=merge", "-p",
                '{"metadata":{"finalizers":null}}', check=False,
            )  # fmt: skip


def api_client(dashboard: RunningServer, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=dashboard.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def loss_body(ns: str, name: str) -> dict:  # type: ignore[type-arg]
    """A NetworkChaos create request that selects no pod, so no fault is ever injected."""
    spec = {
        "action": "loss",
        "mode": "all",
        "selector": {"namespaces": [ns], "labelSelectors": {"app": "nothing-here"}},
        "loss": {"loss": "30"},
    }
    return {"kind": "NetworkChaos", "namespace": ns, "name": name, "spec": spec}
