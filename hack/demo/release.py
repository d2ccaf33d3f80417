"""Faultline installed for the demo with Helm, a login token, and the dashboard on a local port.

One namespace holds the release, the etcd target and the Experiments, and the operator watches
only that namespace (other Faultline installs may share the cluster). The operator runs the
load probes in its own pod (FAULTLINE_PROBE_MODE=local, reaching etcd through cluster DNS) and
mirrors every run into the dashboard with the demo's token: a ServiceAccount bound to the
chart's `-edit` role, whose long-lived token is also the one you paste into the login page.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
from cluster import ROOT, DemoCluster, DemoError
from target import wait_for

CHART = ROOT / "helm" / "faultline"
STATE = Path("/var/lib/faultline-demo")
ADMIN = "demo-admin"


def fullname(namespace: str) -> str:
    return namespace  # the release and its cluster-wide roles are named after the namespace


def chaosd_state_dir(namespace: str) -> str:
    """chaosd's journal on the node, one per demo namespace (other installs keep theirs)."""
    return f"/var/lib/faultline/chaosd-{namespace}"


def _admin_objects(namespace: str) -> list[dict[str, Any]]:
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": ADMIN}},
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/service-account-token",
            "metadata": {
                "name": f"{ADMIN}-token",
                "annotations": {"kubernetes.io/service-account.name": ADMIN},
            },
        },
        {
            # Cluster-wide: the dashboard checks run and observation writes (paths without a
            # namespace) against the whole cluster.
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"{namespace}-{ADMIN}"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": f"{fullname(namespace)}-edit",
            },
            "subjects": [{"kind": "ServiceAccount", "name": ADMIN, "namespace": namespace}],
        },
    ]


def admin_token(c: DemoCluster, namespace: str) -> str:
    """Create the demo's ServiceAccount and wait for its token Secret to be filled in."""
    if not c.kubectl("get", "namespace", namespace, "--ignore-not-found", "-o", "name"):
        c.kubectl("create", "namespace", namespace)
    c.apply(_admin_objects(namespace), namespace)
    found: list[str] = []

    def filled() -> bool:
        data = c.kubectl_json("get", "secret", "-n", namespace, f"{ADMIN}-token").get("data")
        found[:] = [base64.b64decode(data["token"]).decode()] if data and "token" in data else []
        return bool(found)

    wait_for("the demo ServiceAccount's token", filled, timeout=60)
    return found[0]


def values(c: DemoCluster, namespace: str, image_id: str) -> dict[str, Any]:
    name = fullname(namespace)
    # A rebuilt image keeps its tag: the annotation changes with it, so the pods roll.
    rollout = {"demo.faultline.dev/image-id": image_id} if image_id else {}
    chaosd: dict[str, Any] = {
        "stateDir": chaosd_state_dir(namespace),
        "podAnnotations": rollout,
    }
    if c.local:  # the dev cluster's containerd listens on its own socket
        chaosd["criSocket"] = {"enabled": True, "path": str(c.settings.containerd_socket)}
    return {
        "fullnameOverride": name,
        # The release namespace is protected by default; the demo keeps etcd beside Faultline in
        # one namespace (one `make demo-down` removes both), so it says so explicitly.
        "targeting": {"allowProtected": [namespace]},
        "operator": {
            "watchNamespaces": [namespace],
            "podAnnotations": rollout,
            "extraEnv": [
                {"name": "FAULTLINE_PROBE_MODE", "value": "local"},
                {"name": "FAULTLINE_DASHBOARD_URL", "value": f"http://{name}-dashboard"},
                {
                    "name": "FAULTLINE_DASHBOARD_TOKEN",
                    "valueFrom": {"secretKeyRef": {"name": f"{ADMIN}-token", "key": "token"}},
                },
            ],
        },
        "chaosd": chaosd,
        "dashboard": {"podAnnotations": rollout},
        # One webhook pod is enough on one node (the chart's two ride out drains).
        "webhook": {"replicas": 1, "podAnnotations": rollout},
    }


def install(c: DemoCluster, namespace: str, image_id: str) -> None:
    """`helm upgrade --install`: a no-op roll when nothing changed, so re-runs are quick."""
    c.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(ROOT / "crds"))
    c.helm(
        "upgrade", "--install", namespace, str(CHART), "-n", namespace,
        "--wait", "--timeout=5m", values=values(c, namespace, image_id),
    )  # fmt: skip
    _wait_operator_leader(c, namespace)
    _wait_webhook(c, namespace)


def _wait_webhook(c: DemoCluster, namespace: str) -> None:
    """The admission webhook's pod is Ready a moment before the API server reaches it through
    its Service; until then every chaos object is refused. A server-side dry run goes through
    the webhooks without creating anything."""
    probe = {
        "apiVersion": "chaos.faultline.dev/v1alpha1", "kind": "PodChaos",
        "metadata": {"name": "webhook-probe", "namespace": namespace},
        "spec": {"action": "pod-kill", "mode": "one",
                 "selector": {"labelSelectors": {"app": "webhook-probe"}}},
    }  # fmt: skip

    last: list[str] = [""]

    def admits() -> bool:
        try:
            c.kubectl("create", "--dry-run=server", "-f", "-", stdin=json.dumps(probe))
        except DemoError as e:
            last[0] = str(e).strip()
            return False
        return True

    try:
        wait_for("the admission webhook to answer", admits, timeout=120)
    except DemoError as e:
        raise DemoError(f"{e}; the last refusal: {last[0]}") from e


def _wait_operator_leader(c: DemoCluster, namespace: str) -> None:
    """After a rolling upgrade the old leader's Lease lingers until it expires; an Experiment
    started before a current pod takes it over would be handed over mid-run, and a local
    probe's series does not survive that. So wait until a current operator pod leads."""
    selector = f"app.kubernetes.io/instance={namespace},app.kubernetes.io/component=operator"

    def current_leads() -> bool:
        pods = c.kubectl_json("get", "pods", "-n", namespace, "-l", selector)["items"]
        live = {p["metadata"]["name"] for p in pods if not p["metadata"].get("deletionTimestamp")}
        lease = c.kubectl(
            "get", "lease", "-n", namespace, f"{fullname(namespace)}-operator",
            "-o", "jsonpath={.spec.holderIdentity}", check=False,
        )  # fmt: skip
        return lease.strip() in live and len(pods) == len(live)

    wait_for("a current operator pod to hold the leader Lease", current_leads, timeout=180)


def _pidfile(namespace: str) -> Path:
    return STATE / namespace / "port-forward.pid"


# An environment entry the port-forward loop and every child of it carry: how they are found.
FORWARD_ENV = "FAULTLINE_DEMO_FORWARD"


def _forward_pids(namespace: str) -> list[int]:
    """Every process of this demo's port-forward loop, found by the marker in its environment
    (the loop's shell and the kubectl it runs), so nothing survives even without the pidfile."""
    marker = f"{FORWARD_ENV}={namespace}".encode() + b"\0"
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if marker in (proc / "environ").read_bytes():
                pids.append(int(proc.name))
        except (OSError, ValueError):
            continue
    return [p for p in pids if p != os.getpid()]


def stop_dashboard(namespace: str) -> None:
    """Stop the port-forward this demo started earlier and wait until it is really gone: its
    process group by the pidfile, then any straggler by its marker, SIGKILL after 5 s."""
    pidfile = _pidfile(namespace)
    with contextlib.suppress(OSError, ValueError):
        os.killpg(int(pidfile.read_text()), signal.SIGTERM)
    deadline = time.monotonic() + 5
    while (pids := _forward_pids(namespace)) and time.monotonic() < deadline:
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
        time.sleep(0.2)
    for pid in _forward_pids(namespace):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    pidfile.unlink(missing_ok=True)


def serve_dashboard(c: DemoCluster, namespace: str, port: int) -> str:
    """Port-forward the dashboard Service to 127.0.0.1:`port` in the background (restarted if
    the dashboard pod is replaced) and return its URL once it answers."""
    url = f"http://127.0.0.1:{port}"
    stop_dashboard(namespace)
    forward = (
        f"while true; do '{c.kubectl_path}' --kubeconfig='{c.kubeconfig}' -n '{namespace}' "
        f"port-forward --address 127.0.0.1 'svc/{fullname(namespace)}-dashboard' {port}:80; "
        "sleep 1; done"
    )
    _pidfile(namespace).parent.mkdir(parents=True, exist_ok=True)
    log = open(_pidfile(namespace).with_name("port-forward.log"), "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        ["sh", "-c", forward], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        start_new_session=True, env={**os.environ, FORWARD_ENV: namespace},
    )  # fmt: skip
    log.close()
    _pidfile(namespace).write_text(str(proc.pid))

    def answers() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(f"the dashboard at {url}", answers, timeout=60)
    except DemoError:
        stop_dashboard(namespace)
        raise
    return url  # the port-forward keeps running: it outlives the demo on purpose
