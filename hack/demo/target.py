"""The demo's target: a 3-member etcd cluster (k8s/etcd.yaml) and who its Raft leader is.

The leader is asked from etcd itself (/v3/maintenance/status through the JSON gateway, with the
busybox wget inside each pod, so it works on any cluster, reachable pod IPs or not) and marked
with a label, so a PodChaos can select "the leader" with an ordinary label selector.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import yaml
from cluster import DemoCluster, DemoError

MANIFEST = Path(__file__).resolve().parent / "k8s" / "etcd.yaml"
ROLE_LABEL = "demo.faultline.dev/raft-role"
MEMBERS = ("etcd-0", "etcd-1", "etcd-2")
CLIENT_SERVICE = "etcd-client"


def wait_for(what: str, check: Any, timeout: float) -> None:
    """Poll until check() holds; the bound only keeps a broken cluster from hanging the demo."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise DemoError(f"gave up waiting for {what} after {timeout:.0f}s")
        time.sleep(1)


def _ready(pod: dict[str, Any]) -> bool:
    if pod["metadata"].get("deletionTimestamp"):
        return False
    conds = pod.get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)


def pods(c: DemoCluster, namespace: str) -> list[dict[str, Any]]:
    return list(c.kubectl_json("get", "pods", "-n", namespace, "-l", "app=etcd")["items"])


def deploy(c: DemoCluster, namespace: str) -> None:
    """Apply the StatefulSet (unchanged on a re-run) and wait for 3 Ready members."""
    c.apply(list(yaml.safe_load_all(MANIFEST.read_text())), namespace)
    wait_for(
        "3 Ready etcd members",
        lambda: sum(_ready(p) for p in pods(c, namespace)) == len(MEMBERS),
        timeout=300,
    )


def status(c: DemoCluster, namespace: str, member: str) -> dict[str, Any] | None:
    """The member's /v3/maintenance/status answer, or None when it does not answer."""
    out = c.kubectl(
        # (No wget -T: this busybox build crashes with it; the request timeout bounds it.)
        "exec", "--request-timeout=10s", "-n", namespace, member, "--",
        "busybox", "wget", "-q", "-O", "-", "--post-data", "{}",
        "http://127.0.0.1:2379/v3/maintenance/status",
        check=False,
    )  # fmt: skip
    try:
        return dict(json.loads(out))
    except ValueError:
        return None


def leader(c: DemoCluster, namespace: str) -> str:
    """The pod that is the Raft leader, as every member agrees; waits out an election."""
    found: list[str] = []

    def agreed() -> bool:
        answers = {m: status(c, namespace, m) for m in MEMBERS}
        if any(a is None for a in answers.values()):
            return False
        leaders = {a["leader"] for a in answers.values() if a}
        found[:] = [m for m, a in answers.items() if a and a["header"]["member_id"] in leaders]
        return len(leaders) == 1 and len(found) == 1

    wait_for("the etcd members to agree on a leader", agreed, timeout=60)
    return found[0]


def label_roles(c: DemoCluster, namespace: str, lead: str) -> None:
    for member in MEMBERS:
        role = "leader" if member == lead else "follower"
        c.kubectl("label", "-n", namespace, "pod", member, f"{ROLE_LABEL}={role}", "--overwrite")


def client_url(namespace: str, path: str) -> str:
    return f"http://{CLIENT_SERVICE}.{namespace}.svc:2379{path}"
