"""`make demo`: the canonical hypothesis experiment on Kubernetes, end to end, in one command.

Cluster (KUBECONFIG or the local dev cluster) -> images -> `helm upgrade --install` Faultline
-> a 3-member etcd -> its Raft leader labelled -> an Experiment run with `faultline run --wait`
-> the verdict and the recovery figures -> the dashboard left running at a printed URL.
Every step reuses what a previous run left (cluster, images, release, etcd), so a re-run costs
about the experiment itself; each run gets a new Experiment name.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import release
import scenarios
import target
import yaml
from cluster import ROOT, DemoCluster, DemoError, connect, ensure_images
from report import print_report

STEP = "\033[1m==>\033[0m"


def step(msg: str) -> None:
    print(f"{STEP} {msg}", flush=True)


def _args(argv: list[str]) -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0])
    p.add_argument("--scenario", choices=scenarios.SCENARIOS, default=env("SCENARIO") or "pod-kill")
    p.add_argument("--namespace", default=env("FAULTLINE_DEMO_NAMESPACE", "faultline-demo"))
    p.add_argument("--port", type=int, default=int(env("FAULTLINE_DEMO_PORT", "8090")))
    p.add_argument("--baseline", type=int, default=int(env("FAULTLINE_DEMO_BASELINE", "30")))
    p.add_argument("--fault", type=int, default=int(env("FAULTLINE_DEMO_FAULT", "30")))
    p.add_argument(
        "--recovery-deadline", type=int, default=int(env("FAULTLINE_DEMO_RECOVERY", "60"))
    )
    p.add_argument("--down", action="store_true", help="remove everything the demo installed")
    return p.parse_args(argv)


def _run_experiment(c: DemoCluster, doc: dict[str, Any], workdir: Path) -> int:
    """`faultline run --wait`: it follows the run and exits with the verdict (0 Passed)."""
    path = workdir / f"{doc['metadata']['name']}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    env = {**os.environ, "KUBECONFIG": str(c.kubeconfig), "CI": "1"}  # plain progress lines
    cmd = [str(ROOT / ".venv/bin/faultline"), "run", str(path), "--wait", "--timeout", "15m"]
    return subprocess.run(cmd, env=env, check=False).returncode


def _page(url: str, token: str, namespace: str, name: str) -> str:
    """The experiment's page in the dashboard (the operator mirrored the run there)."""
    try:
        page = httpx.get(
            f"{url}/api/v1/experiments",
            params={"namespace": namespace, "limit": 200},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        ids = [e["id"] for e in page.get("items", []) if e.get("name") == name]
        return f"{url}/experiments/{ids[0]}" if ids else url
    except (httpx.HTTPError, ValueError, KeyError):
        return url


def _implausible(status: dict[str, Any], name: str) -> str:
    """Why this run's figures say nothing about etcd, or "" when they are plausible."""
    runner = str(status.get("runner", ""))
    if not runner.startswith(f"{name}-operator-"):
        # Another Faultline operator watching every namespace took the run: its probes ran
        # where it runs, which may not reach the etcd Service at all.
        return f"it was run by another operator ({runner}), not the demo's release"
    dead = [m["probe"] for m in status.get("metrics", []) if not m.get("baselineQps")]
    if dead:
        return f"probe(s) {', '.join(dead)} had no successful request during the baseline"
    return ""


def demo(args: argparse.Namespace) -> int:
    ns = args.namespace
    step("cluster: KUBECONFIG when reachable, else the local dev cluster")
    c = connect()
    print(f"    {'local dev cluster' if c.local else 'KUBECONFIG cluster'}: {c.kubeconfig}")
    step("images: Faultline and etcd (built once, cached, imported into containerd)")
    image_id = ensure_images(c)
    step(f"Faultline: helm upgrade --install {ns} helm/faultline -n {ns}")
    token = release.admin_token(c, ns)
    release.install(c, ns, image_id)
    step("target: 3-member etcd StatefulSet (Raft) behind the etcd-client Service")
    target.deploy(c, ns)
    leader = target.leader(c, ns)
    target.label_roles(c, ns, leader)
    print(f"    Raft leader: {leader} (labelled {target.ROLE_LABEL}=leader)")
    step("dashboard: port-forward to 127.0.0.1")
    url = release.serve_dashboard(c, ns, args.port)

    # One name per scenario: `faultline run` replaces the ended Experiment of an earlier demo,
    # so the dashboard lists every run under one experiment, with its time-to-recover trend.
    name = f"etcd-{args.scenario}"
    timing = scenarios.Timing(args.baseline, args.fault, args.recovery_deadline)
    doc = scenarios.experiment(args.scenario, name, ns, leader, timing)
    step(f"experiment {ns}/{name}")
    print(f"    Hypothesis: {scenarios.hypothesis(args.scenario)}")
    workdir = release.STATE / ns / "experiments"
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    code = _run_experiment(c, doc, workdir)
    status = c.kubectl_json("get", "experiment", "-n", ns, name).get("status", {})
    verdict = print_report(status, doc, time.monotonic() - started)
    expected = scenarios.EXPECTED[args.scenario]
    problem = _implausible(status, release.fullname(ns))
    print()
    print(f"Dashboard: {_page(url, token, ns, name)}")
    print(f"Login token (ServiceAccount {ns}/{release.ADMIN}):\n{token}")
    print(f"(The port-forward keeps running; `make demo-down` removes the demo, {ns}.)")
    if problem:
        print(f"The run cannot be trusted: {problem}")
        return 1
    if verdict != expected:
        print(f"Unexpected verdict: {verdict} (this scenario should end {expected}); exit {code}")
        return 1
    if verdict != "Passed":
        print(f"As expected for {args.scenario}: the hypothesis does not hold.")
    return 0


def down(args: argparse.Namespace) -> int:
    ns = args.namespace
    c = connect()
    release.stop_dashboard(ns)
    step(f"removing the demo: release, namespace {ns}, its data")
    # Experiments first, while the operator is there to recover their faults.
    c.kubectl("delete", "experiments", "--all", "-n", ns, "--timeout=120s", check=False)
    c.helm("uninstall", ns, "-n", ns, "--wait", "--ignore-not-found")
    c.kubectl("delete", "clusterrolebinding", f"{ns}-{release.ADMIN}", "--ignore-not-found")
    c.kubectl("delete", "namespace", ns, "--ignore-not-found", "--timeout=180s")
    if c.local:
        for member in target.MEMBERS:
            subprocess.run(
                ["rm", "-rf", f"/var/lib/faultline-demo/etcd/{ns}-{member}"], check=False
            )
        subprocess.run(["rm", "-rf", str(release.STATE / ns)], check=False)
        subprocess.run(["rm", "-rf", release.chaosd_state_dir(ns)], check=False)
    return 0


def main(argv: list[str]) -> int:
    args = _args(argv)
    try:
        return down(args) if args.down else demo(args)
    except DemoError as e:
        print(f"demo failed: {e}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
