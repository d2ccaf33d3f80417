"""`python -m devcluster up|down|status` (the hack/cluster/{up,down,status} scripts call this)."""

from __future__ import annotations

import argparse
import json
import sys
import time

from devcluster import lifecycle
from devcluster.external import external_kubeconfig, server_version
from devcluster.settings import Settings


def main() -> int:
    parser = argparse.ArgumentParser(prog="hack/cluster")
    sub = parser.add_subparsers(dest="action", required=True)
    up = sub.add_parser("up", help="build if needed and start (or finish starting) the cluster")
    up.add_argument("--no-build", action="store_true", help="fail instead of building binaries")
    down = sub.add_parser("down", help="stop everything and remove all trace from the host")
    down.add_argument("--purge", action="store_true", help="also delete etcd data, certs, images")
    sub.add_parser("status", help="show components and the node")
    args = parser.parse_args()
    s = Settings()

    if args.action == "up":
        external = external_kubeconfig(s)
        if external:
            print(f"KUBECONFIG={external} reaches {server_version(external)}; using that cluster")
            return 0
        began = time.monotonic()
        try:
            lifecycle.up(s, build=not args.no_build)
        except lifecycle.ClusterError as e:
            print(f"cluster-up failed: {e}", file=sys.stderr)
            return 1
        print(
            f"cluster up in {time.monotonic() - began:.1f}s: "
            f"{server_version(s.admin_kubeconfig)}, node {s.node_name}"
        )
        print(f"export KUBECONFIG={s.admin_kubeconfig}")
        print(f"export PATH={s.k8s_bin}:$PATH  # kubectl {s.k8s_bin.name.removeprefix('k8s-')}")
        return 0
    if args.action == "down":
        left = lifecycle.down(s, purge=args.purge)
        remaining = {k: v for k, v in left.items() if v}
        if remaining:
            print("cluster-down left these behind:\n" + json.dumps(remaining, indent=2))
            return 1
        print("cluster down: no processes, mounts, netns, links, cgroups or rules remain")
        return 0
    report = lifecycle.status(s)
    for name, info in report["components"].items():  # type: ignore[attr-defined]
        state = "healthy" if info["healthy"] else ("running" if info["pid"] else "stopped")
        print(f"{name:24} {state:8} {info['pid'] or ''}")
    if report["node"]:
        print(report["node"], end="")
    if report["storage"]:
        print(report["storage"])
    print(f"export KUBECONFIG={report['kubeconfig']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
