"""Crash safety: SIGKILL chaosd at random points of apply and recover, restart it, and check
the kernel holds exactly what the journal says is desired — nothing leaked, nothing missing."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import httpx
import pytest
from engine_lab import Daemon, Pod, inspect

pytestmark = [pytest.mark.privileged, pytest.mark.slow, pytest.mark.timeout(1800)]

CYCLES = 50
LEASE = 600  # long: lapses are tested elsewhere; here only crashes may change state


def _random_faults(rng: random.Random, pod: Pod, peer: Pod) -> list[dict[str, Any]]:
    pool: list[dict[str, Any]] = [
        {"kind": "io", "action": "fault", "volumePath": pod.volume, "errno": 5, "percent": 50},
        {"kind": "loss", "loss": rng.choice([10, 30, 50])},
        {"kind": "partition", "peers": [{"cidr": f"{peer.ip}/32"}], "direction": "both"},
        {"kind": "delay", "latency": f"{rng.choice([5, 20])}ms"},
        {"kind": "bandwidth", "rate": rng.choice(["1mbps", "500kbit"])},
    ]
    return rng.sample(pool, rng.randint(1, 3))


def _expected(faults: list[dict[str, Any]]) -> dict[str, bool]:
    kinds = {f["kind"] for f in faults}
    return {
        "nft_table": bool(kinds & {"loss", "partition", "delay"}),
        "qdisc": "bandwidth" in kinds,
        "fuse": "io" in kinds,
    }


NOTHING = {"nft_table": False, "qdiscs": [], "delayers": [], "fuse_mounts": [], "iofs_servers": []}


def _settled(pod: Pod) -> dict[str, Any]:
    """The kernel state once a recovered FUSE server has finished exiting (it drains first)."""
    held = inspect(pod)
    for _ in range(100):
        if not held["iofs_servers"] or held["fuse_mounts"]:
            break
        time.sleep(0.1)
        held = inspect(pod)
    return held


def _assert_kernel_matches_journal(daemon: Daemon, pods: list[Pod], cycle: int) -> None:
    with daemon.client() as c:
        for pod in pods:
            held = _settled(pod)
            r = c.get(f"/targets/{pod.id}")
            where = f"cycle {cycle}, {pod.id}: kernel {held}"
            if r.status_code == 404:
                assert held == NOTHING, where
                continue
            status = r.json()
            faults = status["applied"]
            assert status["status"] == "applied", f"{where}, status {status}"
            want = _expected(faults)
            assert held["nft_table"] == want["nft_table"], f"{where}, desired {faults}"
            assert bool(held["qdiscs"]) == want["qdisc"], f"{where}, desired {faults}"
            if not any(f["kind"] == "delay" for f in faults):
                assert held["delayers"] == [], f"{where}, desired {faults}"
            assert bool(held["fuse_mounts"]) == want["fuse"], f"{where}, desired {faults}"
            assert len(held["iofs_servers"]) == int(want["fuse"]), f"{where}, desired {faults}"
            problems = {n: f["problems"] for n, f in status["families"].items() if not f["ok"]}
            assert not problems, f"{where}: verification failed {problems}"


def test_sigkill_during_apply_and_recover_leaks_nothing(daemon: Daemon, pods: list[Pod]) -> None:
    rng = random.Random()
    seed = rng.randrange(2**32)
    rng.seed(seed)
    print(f"seed {seed}")
    daemon.start()
    kills = {"put": 0, "delete": 0}
    for cycle in range(CYCLES):
        pod = rng.choice(pods)
        peer = pods[1 - pods.index(pod)]
        op = rng.choice(["put", "put", "delete"])
        kills[op] += 1
        client = daemon.client()
        body = {"pid": pod.pid, "faults": _random_faults(rng, pod, peer), "lease_seconds": LEASE}

        def request(client: httpx.Client = client, op: str = op, pod: Pod = pod,
                    body: dict[str, Any] = body) -> None:  # fmt: skip
            try:
                if op == "put":
                    client.put(f"/targets/{pod.id}", json=body)
                else:
                    client.delete(f"/targets/{pod.id}")
            except httpx.HTTPError:
                pass  # chaosd was killed under the request: that is the point

        worker = threading.Thread(target=request)
        worker.start()
        time.sleep(rng.uniform(0, 0.25))  # a random point inside (or just after) the work
        daemon.kill()
        worker.join()
        client.close()
        daemon.start()  # reconcile runs before the API answers /healthz
        _assert_kernel_matches_journal(daemon, pods, cycle)
    print(f"{CYCLES} kill/restart cycles: {kills}")
    # finally everything must go, and be seen to go
    with daemon.client() as c:
        for pod in pods:
            c.delete(f"/targets/{pod.id}")
    for pod in pods:
        assert _settled(pod) == NOTHING
