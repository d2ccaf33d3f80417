"""`cluster-down` leaves nothing of the cluster on the host, and `cluster-up` brings it back.

Runs after every other e2e test (the conftest orders it last) and always restores the cluster.
The host is inspected directly here (/proc, mountinfo, `ip`, `nft`, cgroupfs), not through the
teardown module's own sweep, so a blind spot in that sweep cannot hide a leak.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from devcluster import lifecycle
from devcluster.settings import BRIDGE

from tests.support.pods import start_sleeper

if TYPE_CHECKING:
    from tests.support.cluster import Cluster

pytestmark = pytest.mark.cluster


def _host_traces(cluster: Cluster, pod_veths: frozenset[str] = frozenset()) -> dict[str, list[str]]:
    s = cluster.settings
    markers = (str(s.state), str(s.run), str(s.k8s_bin), "etcd --name=faultline")
    procs = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(m in cmd for m in markers):
            procs.append(f"{proc.name}: {cmd[:120]}")
    mounts = [
        line.split()[4]
        for line in Path("/proc/self/mountinfo").read_text().splitlines()
        if line.split()[4].startswith((str(s.state), str(s.run), "/run/netns/cni-"))
    ]
    links = [
        link["ifname"]
        for link in json.loads(
            subprocess.run(
                ["ip", "-j", "link", "show"], check=True, capture_output=True, text=True
            ).stdout
        )
        if link["ifname"] == BRIDGE or link.get("master") == BRIDGE or link["ifname"] in pod_veths
    ]
    netns = [p.name for p in Path("/run/netns").glob("cni-*")]
    cgroups = [str(p) for p in Path("/sys/fs/cgroup").glob("*/kubepods*")]
    ruleset = subprocess.run(
        ["nft", "list", "ruleset"], check=True, capture_output=True, text=True
    ).stdout
    rules = [
        line.strip()
        for line in ruleset.splitlines()
        if "KUBE-" in line or "CNI-" in line or "table ip kube-proxy" in line
    ]
    return {
        "processes": procs,
        "mounts": mounts,
        "links": links,
        "netns": netns,
        "cgroups": cgroups,
        "rules": rules,
    }


def test_cluster_down_leaves_nothing_and_up_restores(cluster: Cluster, namespace: str) -> None:
    if not cluster.local:
        pytest.skip("an external KUBECONFIG cluster is not ours to tear down")
    # Something running in a pod, so there are mounts, a veth and pod cgroups to clean up.
    start_sleeper(cluster, namespace, "sleeper")
    before = _host_traces(cluster)
    for kind in before:
        assert before[kind], f"a running cluster shows no {kind}: the check itself is blind"

    # The pods' host-side veths, by name: after down they must be gone, bridge or no bridge.
    veths = frozenset(name for name in before["links"] if name != BRIDGE)
    assert veths, "no pod veth found on the bridge"
    try:
        reported = lifecycle.down(cluster.settings)
        after = _host_traces(cluster, veths)
        assert {k: v for k, v in after.items() if v} == {}
        assert {k: v for k, v in reported.items() if v} == {}
    finally:
        lifecycle.up(cluster.settings)

    nodes = json.loads(cluster.kubectl("get", "nodes", "-o", "json"))["items"]
    conditions = {c["type"]: c["status"] for c in nodes[0]["status"]["conditions"]}
    assert conditions["Ready"] == "True"
