"""Prints apply and recover latency (p50/p99) of network faults, for 1 and for 100 targets.

Run as root: `.venv/bin/python bench/network_apply_latency.py`. Every target is its own netns
pod (a veth pair per two pods), all torn down at the end.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "privileged", "net"))
import netlab

from chaosd.faults.network import family
from chaosd.model import BandwidthFault, DelayFault, LossFault, PartitionFault, Peer

NFT_ONLY = [LossFault(loss=10), PartitionFault(peers=[Peer(cidr="10.250.0.0/16")])]
WITH_DELAY = [*NFT_ONLY, DelayFault(latency="20ms")]
WITH_TBF = [*NFT_ONLY, BandwidthFault(rate="10mbit")]


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def report(label: str, ms: list[float]) -> None:
    q = statistics.quantiles(ms, n=100, method="inclusive")
    print(f"{label:<50} n={len(ms):<4} p50 {q[49]:8.1f} ms  p99 {q[98]:8.1f} ms")


def cycle(pods: Sequence[netlab.Pod], faults: list[Any], label: str, rounds: int) -> None:
    apply_ms: list[float] = []
    recover_ms: list[float] = []
    for _ in range(rounds):
        for pod in pods:
            plan = family.plan(pod.target, faults)
            apply_ms.append(timed(lambda p=pod, pl=plan: family.apply(p.target, pl)))
        for pod in pods:
            recover_ms.append(timed(lambda p=pod: family.recover(p.target)))
    report(f"{label} apply", apply_ms)
    report(f"{label} recover", recover_ms)


def main() -> None:
    family.capabilities  # probe once, outside the measurements  # noqa: B018
    with netlab.pod_pair() as (a, _):
        cycle([a], NFT_ONLY, "1 target, loss+partition (nft)", 50)
        cycle([a], WITH_TBF, "1 target, loss+partition+bandwidth (nft+tbf)", 30)
        cycle([a], WITH_DELAY, "1 target, loss+partition+delay (nft+delayer)", 20)
        plan = family.plan(a.target, WITH_DELAY)
        family.apply(a.target, plan)
        report("1 target, re-apply identical plan", [timed(lambda: family.apply(a.target, plan))
                                                      for _ in range(30)])  # fmt: skip
        family.recover(a.target)
    with contextlib.ExitStack() as stack:
        pods: list[netlab.Pod] = []
        for _ in range(50):
            pods.extend(stack.enter_context(netlab.pod_pair()))
        cycle(pods, NFT_ONLY, "100 targets, loss+partition (nft)", 1)
        cycle(pods, WITH_DELAY, "100 targets, loss+partition+delay", 1)


if __name__ == "__main__":
    main()
