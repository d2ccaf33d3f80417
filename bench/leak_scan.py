"""The node-wide leak scan's cost per namespace.

Starts N throwaway "pods" (a `sleep` in its own network and mount namespace), puts a loss fault
on a third of them through the engine (so they hold a desired nft table) and plants an orphan
table in another third (as a crashed chaosd would leave), then times `scan` in look-only mode
(the steady state: nothing to repair) and the one repairing pass. The figure that matters is
milliseconds per namespace walked (network and mount namespaces, the node's own included).
Everything is removed on the way out. Run as root:

    .venv/bin/python bench/leak_scan.py [--pods 100] [--repeat 5]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests/privileged/engine"))
from engine_lab import start_pod, stop_pods

from chaosd.engine import Engine, Registry
from chaosd.faults.base import TargetRef
from chaosd.faults.network import family as net_family
from chaosd.journal import Journal
from chaosd.leaks import scan
from chaosd.model import DesiredState, LossFault


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    pods = []
    with tempfile.TemporaryDirectory() as state:
        engine = Engine(Journal(Path(state)), Registry.default(logger=logging.getLogger("bench")))
        try:
            for i in range(args.pods):
                pods.append(start_pod(f"bench-leak-{i}", f"10.250.{i // 250}.{i % 250 + 1}"))
            for pod in pods[: args.pods // 3]:
                engine.put(pod.id, DesiredState(pid=pod.pid, faults=[LossFault(loss=1)]))
            orphans = pods[args.pods // 3 : 2 * args.pods // 3]
            for pod in orphans:
                ref = TargetRef(pod.id, pod.pid)
                net_family.apply(ref, net_family.plan(ref, [LossFault(loss=1)]))
            looks = []
            for _ in range(args.repeat):
                report = scan(engine, repair=False)
                looks.append(report.seconds)
            t = time.perf_counter()
            repaired = scan(engine, repair=True)
            repair_s = time.perf_counter() - t
            n = report.namespaces
            look_ms = statistics.median(looks) * 1000
            print(f"pods {args.pods}: {n} namespaces walked (net + mnt, the node's own included)")
            print(f"look-only scan: median {look_ms:.0f} ms over {args.repeat} "
                  f"({look_ms / n:.2f} ms per namespace), "
                  f"{len(report.leaks)} leaks seen, {len(report.found)} objects")  # fmt: skip
            fixed = sum(f.repaired for f in repaired.found)
            print(f"repairing scan: {repair_s * 1000:.0f} ms, {fixed} leaks removed "
                  f"({(repair_s - statistics.median(looks)) * 1000 / max(fixed, 1):.1f} ms "
                  "per removal beyond the look)")  # fmt: skip
            if fixed != len(orphans):  # another chaosd on the node (a release) got there first
                print(f"note: {len(orphans)} orphans planted, {fixed} removed by this scan")
        finally:
            engine.recover_all()
            engine.close()
            stop_pods(pods)


if __name__ == "__main__":
    main()
