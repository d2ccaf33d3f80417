"""`make demo`'s path end to end, with short windows (issue 10, acceptance).

Runs hack/demo.sh itself in a throwaway namespace: images, `helm upgrade --install`, the
3-member etcd, the leader labelled, the pod-kill Experiment through `faultline run --wait`, the
printed verdict and figures, the dashboard port-forward and its login token; then checks the
printed figures against the Experiment's status, that the leader pod was really replaced, and
that the run is in the dashboard. `hack/demo.sh --down` always removes it all.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import yaml

from tests.support.net import free_port

if TYPE_CHECKING:
    from tests.support.cluster import Cluster

# A fresh release builds nothing when the images are cached; a cold image build takes minutes.
pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.timeout(1500)]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo_env(cluster: Cluster) -> Iterator[dict[str, str]]:
    # e2e-own-*: the shared `operator` fixture of other e2e tests leaves these namespaces alone.
    ns = f"e2e-own-demo-{uuid.uuid4().hex[:6]}"
    env = {
        **os.environ,
        "KUBECONFIG": str(cluster.kubeconfig),
        "FAULTLINE_DEMO_NAMESPACE": ns,
        "FAULTLINE_DEMO_PORT": str(free_port()),
        # Short windows: the same path as `make demo`, a few minutes instead of two.
        "FAULTLINE_DEMO_BASELINE": "10",
        "FAULTLINE_DEMO_FAULT": "10",
        "FAULTLINE_DEMO_RECOVERY": "60",
    }
    try:
        yield env
    finally:
        down = subprocess.run(
            [str(REPO / "hack/demo.sh"), "--down"], env=env, capture_output=True, text=True
        )
        assert down.returncode == 0, down.stdout + down.stderr
        assert not cluster.kubectl("get", "namespace", ns, "--ignore-not-found", "-o", "name")
        assert not (Path("/var/lib/faultline-demo") / ns).exists()
        # The dashboard's port-forward loop (shell and kubectl) is gone with it.
        assert _forwarders(ns) == []


def _forwarders(ns: str) -> list[str]:
    marker = f"FAULTLINE_DEMO_FORWARD={ns}\0".encode()
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if marker in (proc / "environ").read_bytes():
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return found


def _figures(out: str, probe: str) -> list[str]:
    row = re.search(rf"^  {probe} +(.*)$", out, re.MULTILINE)
    assert row, f"no figures for {probe} in:\n{out}"
    return row.group(1).split()


def test_demo_pod_kill_passes(cluster: Cluster, demo_env: dict[str, str]) -> None:
    ns = demo_env["FAULTLINE_DEMO_NAMESPACE"]
    done = subprocess.run(
        [str(REPO / "hack/demo.sh")], env=demo_env, capture_output=True, text=True, check=False
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "Verdict: Passed" in out

    leader = re.search(r"Raft leader: (etcd-\d)", out)
    name = re.search(rf"experiment {ns}/(\S+)", out)
    assert leader and name, out
    exp: dict[str, Any] = yaml.safe_load(
        cluster.kubectl("get", "experiment", "-n", ns, name.group(1), "-o", "yaml")
    )
    status = exp["status"]
    assert status["verdict"] == "Passed" and all(r["passed"] for r in status["results"])
    # The printed figures are the engine's: baseline, minimum and time to recover per probe.
    for m in status["metrics"]:
        baseline, _low, minimum, _dip, _impact, recovered, *_ = _figures(out, m["probe"])
        # Compared as printed (one decimal), so a value on a rounding edge (16.25) cannot miss.
        assert baseline == f"{m['baselineQps']:.1f}" and m["baselineQps"] > 0
        assert minimum == f"{m['minQps']:.1f}"
        assert m["minQps"] < m["baselineQps"]  # the kill was felt
        assert recovered == f"{m['timeToRecoverFromStartSeconds']:.1f}s"
        assert m["timeToRecoverFromStartSeconds"] <= 60

    # The leader really died: its pod (same name, StatefulSet) is a new one, Ready again.
    pod = yaml.safe_load(cluster.kubectl("get", "pod", "-n", ns, leader.group(1), "-o", "yaml"))
    killed = [
        c for c in status.get("faultObjects", []) if "kill-leader" in str(c)
    ]  # the child PodChaos the engine made
    assert killed, status
    assert pod["metadata"]["creationTimestamp"] >= status["faultStartTime"][:19]

    # The dashboard answers at the printed URL with the printed token and holds the run.
    page = re.search(r"Dashboard: (http://127\.0\.0\.1:\d+)(/experiments/\d+)", out)
    token = out.split("):\n", 1)[1].split("\n", 1)[0].strip()
    assert page, out
    auth = {"Authorization": f"Bearer {token}"}
    exp_id = page.group(2).rsplit("/", 1)[1]
    runs = httpx.get(f"{page.group(1)}/api/v1/experiments/{exp_id}/runs", headers=auth).json()
    assert [(r["phase"], r["verdict"]) for r in runs["items"]] == [("Finished", "Passed")]
    assert _forwarders(ns), "the dashboard's port-forward loop is not found by its marker"
    html = httpx.get(page.group(1) + page.group(2))
    assert html.status_code == 200 and "<div id=" in html.text
