"""A Helm release of the real chart on the real cluster, and the checks the helm e2e tests share.

Each test installs its own release (throwaway release namespace + workload namespace) with the
locally built Faultline image, waits for every pod to be Ready, drives chaos objects applied with
kubectl through the in-cluster operator and the chaosd DaemonSet, and uninstalls with a fault
still in force: nothing of the release may remain, and no fault may outlive it (no `faultline`
nft table in the target's netns, no delayer in it, no mount under the release's chaosd state dir).

The operator only watches the test's workload namespace (operator.watchNamespaces), because the
cluster is shared with other tests that run their own operators.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from localimages import catalog
from localimages import faultline as faultline_image

from chaosd.journal import Journal
from tests.support import kube
from tests.support.kube import CHAOS_API
from tests.support.pods import (
    deployment,
    nft_tables,
    partition_web_from_client,
    ready_pod,
    reports_ready,
    serves,
    target_pid,
)

if TYPE_CHECKING:
    from tests.support.cluster import Cluster

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "faultline"


@dataclass
class Release:
    name: str
    namespace: str  # where the chart's objects live
    workloads: str  # where the test's pods and chaos objects live (the operator watches it)
    state_dir: Path  # chaosd's host journal directory, unique to this release
    cluster: Cluster

    def helm(self, *args: str, values: dict[str, Any] | None = None) -> str:
        cmd = [str(self.cluster.settings.helm), f"--kubeconfig={self.cluster.kubeconfig}", *args]
        if values is not None:
            cmd += ["--values", "-"]
        out = subprocess.run(
            cmd,
            input=yaml.safe_dump(values) if values is not None else None,
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)} failed: {out.stderr.strip()}")
        return out.stdout

    def kubectl_json(self, *args: str) -> Any:
        return json.loads(self.cluster.kubectl(*args, "-o", "json"))

    def installed(self) -> bool:
        out = self.helm("list", "-n", self.namespace, "-q", "--filter", f"^{self.name}$")
        return self.name in out.split()

    def apply(self, doc: dict[str, Any]) -> None:
        """kubectl apply in the workload namespace."""
        kube.apply(self.cluster, self.workloads, doc)

    def ready_pod(self, name: str) -> dict[str, Any]:
        return ready_pod(self.cluster, self.workloads, name)

    def serves(self, ip: str) -> bool:
        """Whether the workload's `client` pod gets an answer from ip:8080."""
        return serves(self.cluster, self.workloads, "client", ip)


@pytest.fixture(scope="module", name="image")
def image_fixture(cluster: Cluster) -> str:
    """The chart's default image, built (cached) and imported into the node's containerd."""
    assert cluster.local, "test_helm imports the image into the dev cluster's containerd"
    socket = cluster.settings.containerd_socket
    catalog.ensure_imported(socket, ["pause", "demo-http"])
    return faultline_image.ensure_imported(socket)


def release_values(rel: Release, *, privileged: bool) -> dict[str, Any]:
    # The dev cluster's containerd has its own socket path, not the chart's default.
    socket = str(rel.cluster.settings.containerd_socket)
    return {
        "operator": {
            "watchNamespaces": [rel.workloads],
            # Short ticks and leases keep the test quick; the defaults are for real clusters.
            "extraEnv": [
                {"name": "FAULTLINE_TICK_SECONDS", "value": "2"},
                {"name": "FAULTLINE_LEASE_SECONDS", "value": "15"},
            ],
        },
        # One webhook pod: the chart's two are for drains on real clusters.
        "webhook": {"replicas": 1},
        "chaosd": {
            "privileged": privileged,
            "stateDir": str(rel.state_dir),
            "criSocket": {"path": socket},
        },
    }


@contextmanager
def temporary_release(cluster: Cluster) -> Iterator[Release]:
    """A release name, namespaces and state dir of its own; whatever was installed is removed
    afterwards, with the workload namespace."""
    suffix = uuid.uuid4().hex[:6]
    rel = Release(
        name=f"fl{suffix}",
        namespace=f"e2e-helm-{suffix}",
        workloads=f"e2e-work-{suffix}",
        state_dir=Path(f"/var/lib/faultline/chaosd-e2e-{suffix}"),
        cluster=cluster,
    )
    cluster.kubectl("create", "namespace", rel.workloads)
    try:
        yield rel
    finally:
        try:
            if rel.installed():
                uninstall_anyway(rel)
        finally:
            # With the operator gone, a leftover finalizer would keep the namespace forever.
            left = cluster.kubectl(
                "get", "podchaos,networkchaos", "-n", rel.workloads, "-o", "name", check=False
            )
            for obj in left.split():
                cluster.kubectl(
                    "patch", "-n", rel.workloads, obj, "--type=merge",
                    "-p", '{"metadata":{"finalizers":null}}', check=False,
                )  # fmt: skip
            for ns in (rel.workloads, rel.namespace):
                cluster.kubectl("delete", "namespace", ns, "--wait=false", check=False)
            shutil.rmtree(rel.state_dir, ignore_errors=True)


@pytest.fixture(name="release")
def release_fixture(cluster: Cluster, crds: None, image: str) -> Iterator[Release]:
    with temporary_release(cluster) as rel:
        yield rel


def uninstall_anyway(rel: Release) -> None:
    """Uninstall after a failed test; if the cleanup hook fails, remove the release regardless
    (the test's target pods go with their namespace) and report the hook's failure."""
    try:
        rel.helm("uninstall", rel.name, "-n", rel.namespace, "--wait", "--timeout=5m")
    except AssertionError:
        rel.helm("uninstall", rel.name, "-n", rel.namespace, "--no-hooks", "--wait")
        raise


def pods_of(rel: Release, namespace: str, selector: str) -> list[dict[str, Any]]:
    return list(rel.kubectl_json("get", "pods", "-n", namespace, "-l", selector)["items"])


def install(rel: Release, *, privileged: bool, extra: dict[str, Any] | None = None) -> None:
    values = release_values(rel, privileged=privileged) | (extra or {})
    rel.helm(
        "install", rel.name, str(CHART), "-n", rel.namespace, "--create-namespace",
        "--wait", "--timeout=5m", values=values,
    )  # fmt: skip
    instance = f"app.kubernetes.io/instance={rel.name}"
    # `--wait` saw every pod Ready once; on a loaded node a probe can miss right after, so the
    # check is "Ready again within two minutes, never restarted", not one snapshot.
    rel.cluster.kubectl(
        "wait", "--for=condition=Ready", "pod", "-n", rel.namespace, "-l", instance,
        "--timeout=120s",
    )  # fmt: skip
    pods = pods_of(rel, rel.namespace, instance)
    by_component: dict[str, list[dict[str, Any]]] = {}
    for pod in pods:
        component = pod["metadata"]["labels"]["app.kubernetes.io/component"]
        by_component.setdefault(component, []).append(pod)
    assert {c: len(p) for c, p in by_component.items()} == {
        "operator": 2,
        "chaosd": 1,  # one node
        "dashboard": 1,
        "webhook": 1,
    }
    assert all(reports_ready(p) for p in pods), [
        p["metadata"]["name"] for p in pods if not reports_ready(p)
    ]
    restarts = {
        p["metadata"]["name"]: c["restartCount"]
        for p in pods
        for c in p["status"]["containerStatuses"]
        if c["restartCount"]
    }
    assert restarts == {}, restarts
    # The webhook's pod is Ready before its Service's endpoints are: wait until the API server
    # reaches it (a server-side dry run goes through the webhooks).
    probe = {
        "apiVersion": CHAOS_API, "kind": "PodChaos", "metadata": {"name": "webhook-probe"},
        "spec": {"action": "pod-kill", "mode": "one", "selector": {}},
    }  # fmt: skip

    def admits() -> bool:
        out = subprocess.run(
            [str(rel.cluster.kubectl_path), f"--kubeconfig={rel.cluster.kubeconfig}",
             "create", "--dry-run=server", "-n", rel.workloads, "-f", "-"],
            input=json.dumps(probe), capture_output=True, text=True, check=False,
        )  # fmt: skip
        return out.returncode == 0

    rel.cluster.wait_for("the admission webhook answering", admits, timeout=120)
    # One leader: the Lease names one of the two operator pods (and it keeps renewing it).
    lease = rel.kubectl_json("get", "lease", "-n", rel.namespace, f"{rel.name}-faultline-operator")
    names = {p["metadata"]["name"] for p in by_component["operator"]}
    assert lease["spec"]["holderIdentity"] in names
    (chaosd,) = by_component["chaosd"]
    sc = chaosd["spec"]["containers"][0]["securityContext"]
    assert sc.get("privileged", False) is privileged
    assert ("capabilities" in sc) is not privileged
    # chaosd reaches the node's containerd through the mounted CRI socket directory.
    log = rel.cluster.kubectl("logs", "-n", rel.namespace, chaosd["metadata"]["name"])
    assert "finding containers through the CRI at /host/cri/containerd.sock (containerd" in log
    # The dashboard answers through its Service (API server proxy), database included.
    health = rel.cluster.kubectl(
        "get", "--raw",
        f"/api/v1/namespaces/{rel.namespace}/services/{rel.name}-faultline-dashboard:80/proxy/healthz",
    )  # fmt: skip
    assert json.loads(health) == {"status": "ok", "database": "ok"}


def chaos_status(rel: Release, kind: str, name: str) -> dict[str, Any]:
    obj = rel.kubectl_json("get", kind, "-n", rel.workloads, name)
    return dict(obj.get("status") or {})


def partition_works(rel: Release, name: str) -> tuple[str, int]:
    """Partition web from client; observe requests failing. Returns (web IP, web PID)."""
    web = rel.ready_pod("web")
    rel.ready_pod("client")
    ip, pid = web["status"]["podIP"], target_pid(web)
    rel.cluster.wait_for("web reachable before the fault", lambda: rel.serves(ip), 60)
    rel.apply(partition_web_from_client(name))

    def injected() -> bool:
        st = chaos_status(rel, "networkchaos", name)
        return st.get("phase") == "Running" and st.get("injectedTargets") == 1

    rel.cluster.wait_for(f"NetworkChaos {name} injected", injected, timeout=120)
    assert "faultline" in nft_tables(pid)
    assert not rel.serves(ip)
    assert not rel.serves(ip)  # not a one-off timeout: the partition holds
    return ip, pid


def delayers_in(pid: int) -> list[int]:
    """faultline-delayer processes living in the network namespace of `pid`."""
    target = os.stat(f"/proc/{pid}/ns/net").st_ino
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            if b"faultline-delayer" in cmdline and os.stat(entry / "ns/net").st_ino == target:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def uninstall_leaves_nothing(
    rel: Release,
    ip: str,
    pid: int,
    kept: tuple[str, ...] = ("chaosd-token",),
    kept_claims: tuple[str, ...] = ("dashboard",),
) -> None:
    """Uninstall with a partition in force: the fault and the whole release must be gone, but
    for the objects kept on purpose (the token Secret and the dashboard's records)."""
    rel.helm("uninstall", rel.name, "-n", rel.namespace, "--wait", "--timeout=5m")
    assert "faultline" not in nft_tables(pid)
    assert delayers_in(pid) == []
    rel.cluster.wait_for("web reachable after uninstall", lambda: rel.serves(ip), 60)
    assert rel.kubectl_json("get", "networkchaos", "-n", rel.workloads)["items"] == []
    # chaosd's journal on the node holds no target, and nothing is mounted from its state dir.
    journal = Journal(rel.state_dir)
    try:
        assert journal.all() == []
    finally:
        journal.close()
    assert str(rel.state_dir) not in Path("/proc/self/mountinfo").read_text()
    instance = f"app.kubernetes.io/instance={rel.name}"
    rel.cluster.wait_for(
        "release pods gone", lambda: not pods_of(rel, rel.namespace, instance), timeout=120
    )
    kinds = "deploy,ds,rs,svc,sa,cm,role,rolebinding,lease,job,pdb"
    left = rel.kubectl_json("get", kinds, "-n", rel.namespace, "-l", instance)["items"]
    assert left == []
    cluster_scoped = (
        "clusterrole,clusterrolebinding,mutatingwebhookconfiguration,validatingwebhookconfiguration"
    )
    assert rel.kubectl_json("get", cluster_scoped, "-l", instance)["items"] == []
    # The token Secret alone is kept on purpose (helm.sh/resource-policy: keep, docs/install.md).
    secrets = rel.kubectl_json("get", "secret", "-n", rel.namespace, "-l", instance)["items"]
    assert [s["metadata"]["name"] for s in secrets] == [f"{rel.name}-faultline-{k}" for k in kept]
    # So is the dashboard's claim with its runs; the fixture's namespace deletion removes it, and
    # the default StorageClass (reclaimPolicy Delete) its volume.
    claims = rel.kubectl_json("get", "pvc", "-n", rel.namespace, "-l", instance)["items"]
    assert [c["metadata"]["name"] for c in claims] == [
        f"{rel.name}-faultline-{k}" for k in kept_claims
    ]
    assert all(c["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep" for c in claims)


def pod_kill_recreates(rel: Release) -> None:
    rel.apply(deployment("victim", 1))
    rel.cluster.wait_for(
        "victim ready",
        lambda: any(reports_ready(p) for p in pods_of(rel, rel.workloads, "app=victim")),
    )
    (before,) = pods_of(rel, rel.workloads, "app=victim")
    rel.apply(
        {
            "apiVersion": CHAOS_API,
            "kind": "PodChaos",
            "metadata": {"name": "kill-victim"},
            "spec": {
                "action": "pod-kill",
                "mode": "one",
                "selector": {"labelSelectors": {"app": "victim"}},
            },
        },
    )
    old_uid = before["metadata"]["uid"]

    def replaced() -> bool:
        pods = pods_of(rel, rel.workloads, "app=victim")
        return bool(pods) and all(
            p["metadata"]["uid"] != old_uid and reports_ready(p) for p in pods
        )

    rel.cluster.wait_for("killed pod replaced by a new Ready one", replaced, timeout=120)
    # (Not the record's pod name: on this shared cluster another test's cluster-wide operator
    # may act on the same object too, and the status keeps whichever write came last.)
    records = chaos_status(rel, "podchaos", "kill-victim")["records"]
    victims = [r for r in records if r["id"].startswith(f"{rel.workloads}/victim-")]
    assert victims and all(r["injectedCount"] >= 1 for r in victims)
    rel.cluster.kubectl("delete", "-n", rel.workloads, "podchaos", "kill-victim", "--timeout=60s")


def upgrade_changes_values(rel: Release) -> None:
    token = rel.kubectl_json(
        "get", "secret", "-n", rel.namespace, f"{rel.name}-faultline-chaosd-token"
    )
    values = release_values(rel, privileged=False)
    values["operator"]["logLevel"] = "DEBUG"
    values["dashboard"] = {"logLevel": "DEBUG"}
    rel.helm(
        "upgrade", rel.name, str(CHART), "-n", rel.namespace, "--wait", "--timeout=5m",
        values=values,
    )  # fmt: skip
    instance = f"app.kubernetes.io/instance={rel.name}"

    def rolled_out() -> bool:
        pods = pods_of(rel, rel.namespace, f"{instance},app.kubernetes.io/component=operator")
        levels = [
            {e["name"]: e.get("value") for e in p["spec"]["containers"][0]["env"]}.get(
                "FAULTLINE_LOG_LEVEL"
            )
            for p in pods
            if not p["metadata"].get("deletionTimestamp")
        ]
        return levels == ["DEBUG", "DEBUG"] and all(reports_ready(p) for p in pods)

    rel.cluster.wait_for("operators rolled out with DEBUG logs", rolled_out, timeout=180)
    after = rel.kubectl_json(
        "get", "secret", "-n", rel.namespace, f"{rel.name}-faultline-chaosd-token"
    )
    assert after["data"] == token["data"]  # the shared token survives upgrades
    revision = json.loads(rel.helm("status", rel.name, "-n", rel.namespace, "-o", "json"))
    assert revision["version"] == 2 and revision["info"]["status"] == "deployed"
