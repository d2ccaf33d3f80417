"""The demo's Experiments against the 3-member etcd cluster (pure: names in, manifest out).

Every scenario measures the same two load probes through the etcd client Service: `writes`
(POST /v3/kv/put, which every member forwards to the Raft leader) and `reads` (POST
/v3/kv/range, linearizable, so it also needs the leader). `writes` comes first: it is the one
the dashboard draws.

- pod-kill: kill the leader pod. Hypothesis (the canonical one): QPS drops, and within 60 s of
  the kill it is back to >= 90 % of its baseline. Expected: Passed.
- partition-minority: cut one follower off from its two peers. The other two keep a quorum, so
  the service keeps serving (few failed requests). Expected: Passed.
- partition-majority: cut two members (a majority) off from every peer: no quorum anywhere,
  writes and linearizable reads stop until the partition heals. Expected: Failed on the
  "keeps serving" criterion, with the recovery after the heal measured all the same.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from target import MEMBERS, ROLE_LABEL, client_url

API = "chaos.faultline.dev/v1alpha1"
SCENARIOS = ("pod-kill", "partition-minority", "partition-majority")
TITLES = {
    "pod-kill": "Killing the etcd leader: QPS back to >= 90% of baseline within 60 s",
    "partition-minority": "One etcd member cut off: the service keeps serving",
    "partition-majority": "Two etcd members cut off: the service keeps serving",
}
EXPECTED = {"pod-kill": "Passed", "partition-minority": "Passed", "partition-majority": "Failed"}


@dataclass(frozen=True)
class Timing:
    baseline: int = 30
    fault: int = 30
    recovery_deadline: int = 60


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _probes(namespace: str) -> list[dict[str, Any]]:
    key = _b64("faultline-demo/key")
    put = f'{{"key": "{key}", "value": "{_b64("written by the load probe")}"}}'
    get = f'{{"key": "{key}"}}'
    # Closed loop (workers): QPS follows what the cluster can serve; 1 s timeout so a request
    # stuck on a member without a leader counts as an error instead of stalling the probe.
    common = {"type": "load", "method": "POST", "workers": 4, "timeout": "1s"}
    return [
        {"name": "writes", "url": client_url(namespace, "/v3/kv/put"), "body": put, **common},
        {"name": "reads", "url": client_url(namespace, "/v3/kv/range"), "body": get, **common},
    ]  # fmt: skip


def _partition(name: str, namespace: str, isolated: str) -> dict[str, Any]:
    """Cut `isolated` off from every other member, both ways (the probe's traffic still flows)."""
    peers = [m for m in MEMBERS if m != isolated]
    return {
        "name": name,
        "type": "NetworkChaos",
        "networkChaos": {
            "action": "partition",
            "mode": "all",
            "selector": {"pods": {namespace: [isolated]}},
            "direction": "both",
            "target": {"mode": "all", "selector": {"pods": {namespace: peers}}},
        },
    }


def hypothesis(scenario: str) -> str:
    if scenario == "pod-kill":
        return (
            "The service keeps 3 replicas with Raft: when one replica (the leader) is killed, "
            "QPS drops, and within 60 s it is back to >= 90% of its baseline."
        )
    return (
        "When Raft members are cut off from their peers, the service keeps serving (at most 5% "
        "of requests fail while the partition lasts), and within 60 s of the partition healing "
        "QPS is back to >= 90% of its baseline."
    )


def experiment(
    scenario: str, name: str, namespace: str, leader: str, timing: Timing
) -> dict[str, Any]:
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario: {scenario!r} is not one of {', '.join(SCENARIOS)}")
    followers = [m for m in MEMBERS if m != leader]
    if scenario == "pod-kill":
        faults = [
            {
                "name": "kill-leader",
                "type": "PodChaos",
                "podChaos": {
                    "action": "pod-kill",
                    "mode": "one",
                    "selector": {"labelSelectors": {"app": "etcd", ROLE_LABEL: "leader"}},
                },
            }
        ]
        tolerances = [
            {"probe": p, "recoverTo": 90, "within": "60s", "from": "faultStart"}
            for p in ("writes", "reads")
        ]
    else:
        isolated = followers[:1] if scenario == "partition-minority" else [leader, followers[0]]
        faults = [_partition(f"isolate-{m}", namespace, m) for m in isolated]
        # "Keeps serving" is judged on errors, not on the QPS minimum: on a busy machine a
        # closed-loop QPS dips with CPU noise, while failed requests only come from etcd.
        tolerances = [
            {"probe": p, "metric": "errorRate", "during": "fault", "atMost": 0.05}
            for p in ("writes", "reads")
        ] + [{"probe": p, "recoverTo": 90, "within": "60s"} for p in ("writes", "reads")]
    return {
        "apiVersion": API,
        "kind": "Experiment",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"demo.faultline.dev/scenario": scenario},
        },
        "spec": {
            "hypothesis": {
                "title": TITLES[scenario],
                "description": hypothesis(scenario),
                "probes": _probes(namespace),
                "tolerances": tolerances,
            },
            "faults": faults,
            "timing": {
                "baseline": f"{timing.baseline}s",
                "faultDuration": f"{timing.fault}s",
                # Members that lost their peers need a few seconds to drop out of the Service
                # (readiness) and the probe's connections to move to the serving ones.
                "observeAfter": "0s" if scenario == "pod-kill" else "5s",
                "recoveryDeadline": f"{timing.recovery_deadline}s",
            },
        },
    }
