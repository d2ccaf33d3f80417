"""Operator latency on the real cluster: apply -> fault active, duration deadline -> recovered,
and the controller's memory with many chaos objects. Prints the figures; asserts nothing.

Run as root on the dev cluster's node (KUBECONFIG set):
    .venv/bin/python bench/operator_latency.py [--runs 15] [--targets 50] [--objects 1000]

"Active" is observed through traffic, never through status: this host opens TCP connections to
each target pod (pod IPs are routable from the node); a NetworkChaos `loss: 100` on the pods'
egress makes the handshake time out. Targets: p50 <= 0.5 s and p99 <= 2 s for one target,
recovery <= 1 s after the deadline.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.net import free_port  # noqa: E402
from tests.support.operator import Chaosd, OperatorProcess  # noqa: E402

KUBECTL = os.environ.get("KUBECTL", "/var/cache/faultline/bin/k8s-v1.33.13/kubectl")
KUBECONFIG = os.environ.get("KUBECONFIG", "/var/lib/faultline-cluster/admin.kubeconfig")
IMAGE = "faultline.local/demo-http:0.1.0"


def kubectl(*args: str, stdin: str | None = None, check: bool = True) -> str:
    out = subprocess.run(
        [KUBECTL, f"--kubeconfig={KUBECONFIG}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and out.returncode:
        raise RuntimeError(f"kubectl {' '.join(args)}: {out.stderr}")
    return out.stdout


def apply(ns: str, doc: dict) -> None:
    kubectl("apply", "-n", ns, "-f", "-", stdin=json.dumps(doc))


def deployment(name: str, replicas: int) -> dict:
    c = {"name": "main", "image": IMAGE, "imagePullPolicy": "Never"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"terminationGracePeriodSeconds": 1, "containers": [c]},
            },
        },
    }


def loss(name: str, app: str, duration: str | None = None) -> dict:
    spec: dict = {"action": "loss", "mode": "all", "loss": {"loss": "100"}}
    spec["selector"] = {"labelSelectors": {"app": app}}
    if duration:
        spec["duration"] = duration
    return {
        "apiVersion": "chaos.faultline.dev/v1alpha1",
        "kind": "NetworkChaos",
        "metadata": {"name": name},
        "spec": spec,
    }


def ready_ips(ns: str, app: str, n: int) -> list[str]:
    while True:
        pods = json.loads(kubectl("get", "-n", ns, "pods", "-l", f"app={app}", "-o", "json"))
        ips = [
            p["status"]["podIP"]
            for p in pods["items"]
            if any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in p["status"].get("conditions", [])
            )
        ]
        if len(ips) == n:
            return ips
        time.sleep(1)


def connects(ip: str, timeout: float = 0.25) -> bool:
    try:
        with socket.create_connection((ip, 8080), timeout=timeout):
            return True
    except OSError:
        return False


def until(ips: list[str], want_blocked: bool, t0: float, limit: float = 60) -> list[float]:
    """Per ip: seconds from t0 to the start of the first probe showing the wanted state.

    Every pending ip is probed at once in each round: probed one after another, each blocked
    ip cost a whole connect timeout, and with 50 targets the probe loop itself added up to
    50 x 0.25 s to the figures."""
    seen: dict[str, float] = {}
    with ThreadPoolExecutor(max(1, len(ips))) as pool:
        while len(seen) < len(ips) and time.monotonic() - t0 < limit:
            pending = [ip for ip in ips if ip not in seen]
            start = time.monotonic()
            for ip, ok in zip(pending, pool.map(connects, pending), strict=True):
                if ok != want_blocked:
                    seen[ip] = start - t0
            time.sleep(0.005)
    return [seen.get(ip, float("inf")) for ip in ips]


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def apply_latency(
    ns: str, app: str, ips: list[str], runs: int, kubectl_s: list[float] | None = None
) -> list[float]:
    out: list[float] = []
    for i in range(runs):
        name = f"lat-{app}-{i}"
        t0 = time.monotonic()
        apply(ns, loss(name, app))
        if kubectl_s is not None:  # the API server's share: the apply itself
            kubectl_s.append(time.monotonic() - t0)
        out += until(ips, True, t0)
        kubectl("delete", "-n", ns, "networkchaos", name, "--timeout=300s")
        until(ips, False, time.monotonic())
    return out


def recovery_delay(ns: str, ip: str, runs: int) -> list[float]:
    out = []
    for i in range(runs):
        name = f"rec-{i}"
        apply(ns, loss(name, "one", duration="4s"))
        until([ip], True, time.monotonic())
        while True:  # the wall-clock start of the first probe that gets through
            healed_at = time.time()
            if connects(ip):
                break
            time.sleep(0.005)
        st = json.loads(kubectl("get", "-n", ns, "networkchaos", name, "-o", "json"))["status"]
        deadline = datetime.fromisoformat(st["startTime"]).timestamp() + 4
        out.append(healed_at - deadline)
        kubectl("delete", "-n", ns, "networkchaos", name, "--timeout=300s")
    return out


def rss_with_objects(
    ns: str, op: OperatorProcess, count: int, tick: float
) -> tuple[int, int, float, int]:
    assert op.proc is not None
    before = _rss_kib(op.proc.pid)
    docs = [loss(f"many-{i}", "nothing-matches") for i in range(count)]
    t0 = time.monotonic()
    for start in range(0, count, 100):
        batch = {"apiVersion": "v1", "kind": "List", "items": docs[start : start + 100]}
        apply(ns, batch)
    while True:
        out = kubectl("get", "-n", ns, "networkchaos", "-o", "jsonpath={.items[*].status.phase}")
        if len(out.split()) >= count:
            break
        time.sleep(2)
    settled = time.monotonic() - t0
    # Idle objects must cost no writes: over three ticks, count the objects whose
    # resourceVersion moved (a status patch moves it).
    first = _versions(ns)
    time.sleep(3 * tick + 1)
    last = _versions(ns)
    rewritten = sum(1 for name, v in first.items() if last.get(name) != v)
    return before, _rss_kib(op.proc.pid), settled, rewritten


def _versions(ns: str) -> dict[str, str]:
    raw = kubectl("get", "-n", ns, "networkchaos", "-o", "json")
    return {
        i["metadata"]["name"]: i["metadata"]["resourceVersion"] for i in json.loads(raw)["items"]
    }


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--targets", type=int, default=50)
    ap.add_argument("--objects", type=int, default=1000)
    ap.add_argument("--tick", default="5", help="FAULTLINE_TICK_SECONDS (the chart's default)")
    args = ap.parse_args()

    ns = f"e2e-own-bench-{uuid.uuid4().hex[:6]}"  # the shared test operator skips e2e-own-*
    kubectl("create", "namespace", ns)
    state = Path(tempfile.mkdtemp(prefix="bench-chaosd-"))
    token = uuid.uuid4().hex
    (state / "token").write_text(token)
    chaosd = Chaosd(f"http://127.0.0.1:{free_port()}", token, state)
    env = {
        "FAULTLINE_WATCH_NAMESPACES": ns,
        "FAULTLINE_OPERATOR_NAMESPACE": ns,
        "FAULTLINE_TICK_SECONDS": args.tick,
        "FAULTLINE_LEASE_SECONDS": "30",  # the chart's default (the test fixtures use 10)
        "FAULTLINE_LOG_LEVEL": "WARNING",
    }
    op = OperatorProcess(Path(KUBECONFIG), chaosd, state / "operator.log", env)
    try:
        chaosd.start()
        op.start()
        apply(ns, deployment("one", 1))
        apply(ns, deployment("many", args.targets))
        one = ready_ips(ns, "one", 1)
        many = ready_ips(ns, "many", args.targets)

        applied: list[float] = []
        single = apply_latency(ns, "one", one, args.runs, applied)
        print(f"apply -> active, 1 target, {args.runs} runs (tick {args.tick} s): "
              f"p50 {pct(single, 0.5):.3f} s  p99 {pct(single, 0.99):.3f} s  "
              f"max {max(single):.3f} s")  # fmt: skip
        print(f"  of which `kubectl apply` itself: p50 {pct(applied, 0.5):.3f} s  "
              f"max {max(applied):.3f} s")  # fmt: skip
        wide = apply_latency(ns, "many", many, max(3, args.runs // 5))
        print(f"apply -> active, {args.targets} targets (each target, all runs): "
              f"p50 {pct(wide, 0.5):.3f} s  p99 {pct(wide, 0.99):.3f} s  "
              f"max {max(wide):.3f} s")  # fmt: skip

        rec = recovery_delay(ns, one[0], max(3, args.runs // 3))
        print(f"recovery after the duration deadline ({len(rec)} runs): "
              f"median {statistics.median(rec):.3f} s  max {max(rec):.3f} s")  # fmt: skip

        kubectl("scale", "-n", ns, "deployment/many", "--replicas=0")
        before, after, settled, rewritten = rss_with_objects(ns, op, args.objects, float(args.tick))
        print(f"controller RSS: {before / 1024:.0f} MiB idle -> {after / 1024:.0f} MiB "
              f"with {args.objects} chaos objects (all reconciled in {settled:.0f} s)")  # fmt: skip
        print(f"status writes over 3 idle ticks: {rewritten} of {args.objects} objects rewritten")
        print(f"load average during the run: {os.getloadavg()[0]:.1f} (1 min, at the end)")
    finally:
        kubectl("delete", "-n", ns, "networkchaos", "--all", "--timeout=600s", check=False)
        op.stop()
        chaosd.stop()
        subprocess.run(
            [str(Path(sys.executable).parent / "chaosd"), "recover", "--all", "--state-dir",
             str(state)], check=False,
        )  # fmt: skip
        kubectl("delete", "namespace", ns, "--wait=false", check=False)


if __name__ == "__main__":
    main()
