"""The cluster itself works the way Faultline's operator, chaosd and demo rely on.

A Ready node with the real server version, a replicated service reachable from pods and from
the host, ReplicaSets replacing deleted pods, and privileged hostPID DaemonSets (how chaosd
runs) all observed on a real cluster.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from kubernetes import client
from localimages.catalog import DEMO_HTTP

from tests.support.pods import start_sleeper

if TYPE_CHECKING:
    from tests.support.cluster import Cluster

pytestmark = pytest.mark.cluster

DEMO_LABELS = {"app": "demo-http"}


def test_node_is_ready_and_reports_the_real_version(cluster: Cluster) -> None:
    nodes = json.loads(cluster.kubectl("get", "nodes", "-o", "json"))["items"]
    assert nodes, "the cluster has no nodes"
    for node in nodes:
        ready = {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"]
        assert ready == "True", f"node {node['metadata']['name']} is not Ready"
    versions = json.loads(cluster.kubectl("version", "-o", "json"))
    server = versions["serverVersion"]["gitVersion"]
    assert re.fullmatch(r"v1\.\d+\.\d+.*", server), server
    assert not server.startswith("v0.0.0")
    if cluster.local:
        from devcluster.settings import K8S_VERSION

        assert server == K8S_VERSION
        assert versions["clientVersion"]["gitVersion"] == K8S_VERSION
        assert nodes[0]["status"]["nodeInfo"]["kubeletVersion"] == K8S_VERSION


def _demo_objects(namespace: str) -> tuple[client.V1Deployment, client.V1Service]:
    container = client.V1Container(
        name="demo-http",
        image=DEMO_HTTP.tag,
        image_pull_policy="IfNotPresent",
        ports=[client.V1ContainerPort(container_port=8080)],
        env=[
            client.V1EnvVar(
                name="POD_NAME",
                value_from=client.V1EnvVarSource(
                    field_ref=client.V1ObjectFieldSelector(field_path="metadata.name")
                ),
            )
        ],
        readiness_probe=client.V1Probe(
            http_get=client.V1HTTPGetAction(path="/healthz", port=8080), period_seconds=1
        ),
    )
    deployment = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="demo-http", namespace=namespace),
        spec=client.V1DeploymentSpec(
            replicas=3,
            selector=client.V1LabelSelector(match_labels=DEMO_LABELS),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=DEMO_LABELS),
                spec=client.V1PodSpec(containers=[container], termination_grace_period_seconds=1),
            ),
        ),
    )
    service = client.V1Service(
        metadata=client.V1ObjectMeta(name="demo-http", namespace=namespace),
        spec=client.V1ServiceSpec(
            selector=DEMO_LABELS, ports=[client.V1ServicePort(port=80, target_port=8080)]
        ),
    )
    return deployment, service


def _ready_pods(core: client.CoreV1Api, namespace: str) -> set[str]:
    pods = core.list_namespaced_pod(namespace, label_selector="app=demo-http").items
    return {
        p.metadata.name
        for p in pods
        if p.metadata.deletion_timestamp is None
        and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
    }


def test_replicated_service_answers_and_replicaset_replaces_pods(
    cluster: Cluster, namespace: str
) -> None:
    core, apps = client.CoreV1Api(cluster.api), client.AppsV1Api(cluster.api)
    deployment, service = _demo_objects(namespace)
    apps.create_namespaced_deployment(namespace, deployment)
    svc = core.create_namespaced_service(namespace, service)
    cluster.wait_for("3 Ready demo pods", lambda: len(_ready_pods(core, namespace)) == 3)
    replicas = _ready_pods(core, namespace)
    ip = svc.spec.cluster_ip

    # From another pod: a client pod of the same image asks the Service 30 times.
    start_sleeper(cluster, namespace, "client")
    out = cluster.kubectl(
        "-n", namespace, "exec", "client", "--", "/demo-http", "get", "-n", "30", f"http://{ip}/"
    )
    answers = [json.loads(line)["pod"] for line in out.splitlines() if line.strip()]
    assert len(answers) == 30, out
    assert set(answers) <= replicas, f"answers from pods outside the deployment: {answers}"
    assert len(set(answers)) >= 2, f"the Service did not balance over replicas: {answers}"

    # By name through the cluster DNS.
    if cluster.local:
        url = f"http://demo-http.{namespace}.svc.cluster.local/"
        named = cluster.kubectl("-n", namespace, "exec", "client", "--", "/demo-http", "get", url)
        assert json.loads(named)["pod"] in replicas

    # From the host (only a local node shares the host's network with kube-proxy's rules).
    if cluster.local:
        with urllib.request.urlopen(f"http://{ip}/", timeout=10) as resp:
            assert json.loads(resp.read())["pod"] in replicas

    # A deleted pod is replaced by its ReplicaSet.
    victim = sorted(replicas)[0]
    core.delete_namespaced_pod(victim, namespace, grace_period_seconds=0)
    cluster.wait_for(
        "a replacement pod",
        lambda: (
            len(_ready_pods(core, namespace) - replicas) == 1
            and len(_ready_pods(core, namespace)) == 3
        ),
    )
    assert victim not in _ready_pods(core, namespace)


def test_privileged_hostpid_daemonset_runs_on_every_node(cluster: Cluster, namespace: str) -> None:
    labels = {"app": "node-agent"}
    daemonset = client.V1DaemonSet(
        metadata=client.V1ObjectMeta(name="node-agent", namespace=namespace),
        spec=client.V1DaemonSetSpec(
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(
                    host_pid=True,
                    termination_grace_period_seconds=1,
                    containers=[
                        client.V1Container(
                            name="agent",
                            image=DEMO_HTTP.tag,
                            image_pull_policy="IfNotPresent",
                            command=["sleep", "3600"],
                            security_context=client.V1SecurityContext(privileged=True),
                        )
                    ],
                ),
            ),
        ),
    )
    apps, core = client.AppsV1Api(cluster.api), client.CoreV1Api(cluster.api)
    apps.create_namespaced_daemon_set(namespace, daemonset)
    nodes = len(core.list_node().items)

    def all_ready() -> bool:
        status = apps.read_namespaced_daemon_set_status("node-agent", namespace).status
        return bool(status.desired_number_scheduled == nodes and status.number_ready == nodes)

    cluster.wait_for("the DaemonSet on every node", all_ready)
    pod = (
        core.list_namespaced_pod(namespace, label_selector="app=node-agent").items[0].metadata.name
    )

    # hostPID: PID 1 seen from the pod is the host's init, not the container's own process.
    pid1 = cluster.kubectl("-n", namespace, "exec", pod, "--", "cat", "/proc/1/cmdline")
    assert not pid1.startswith("sleep"), pid1
    if cluster.local:
        assert pid1 == Path("/proc/1/cmdline").read_text()
    # privileged: CAP_SYS_ADMIN (21) and CAP_NET_ADMIN (12) are in the effective set.
    status = cluster.kubectl("-n", namespace, "exec", pod, "--", "cat", "/proc/self/status")
    cap_eff = int(re.search(r"^CapEff:\s*([0-9a-f]+)$", status, re.M).group(1), 16)  # type: ignore[union-attr]
    assert cap_eff & (1 << 21) and cap_eff & (1 << 12), hex(cap_eff)
