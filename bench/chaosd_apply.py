"""Apply and recover latency through chaosd's HTTP API, for 1 target and for 100 targets.

Each target is a `sleep` in its own fresh netns with a `loss` fault (an nft table). A real
`chaosd serve` runs on loopback with a private state directory. Latency is client-observed:
request sent -> response received, which includes journaling (fsync) and the kernel work.
Everything is recovered and every netns removed on the way out. Run as root:

    .venv/bin/python bench/chaosd_apply.py [--repeat 30] [--targets 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # engine_lab imports tests.support
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests/privileged/engine"))
from engine_lab import CHAOSD, Daemon, Pod, inspect, start_pod, stop_pods


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _report(name: str, values: list[float]) -> None:
    ms = [v * 1000 for v in values]
    print(f"{name:<34} n={len(ms):<4} p50={_pct(ms, 0.5):7.1f} ms  p99={_pct(ms, 0.99):7.1f} ms"
          f"  mean={statistics.fmean(ms):7.1f} ms")  # fmt: skip


def _timed_put(c: object, pod: Pod) -> float:
    body = {"pid": pod.pid, "faults": [{"kind": "loss", "loss": 30}], "lease_seconds": 600}
    t = time.perf_counter()
    r = c.put(f"/targets/{pod.id}", json=body)  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - t
    assert r.status_code == 200, r.text
    return elapsed


def _timed_delete(c: object, pod: Pod) -> float:
    t = time.perf_counter()
    r = c.delete(f"/targets/{pod.id}")  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - t
    assert r.status_code == 204, r.text
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=30, help="apply/recover rounds on one target")
    ap.add_argument("--targets", type=int, default=100)
    args = ap.parse_args()
    assert os.geteuid() == 0, "needs root (netns, nftables)"
    tmp = Path(tempfile.mkdtemp(prefix="chaosd-bench-"))
    daemon = Daemon(tmp / "state", tmp / "chaosd.log")
    tag = os.urandom(3).hex()
    pods: list[Pod] = []
    try:
        pods = [start_pod(f"bench-{tag}-{i}", "") for i in range(args.targets)]
        daemon.start()
        with daemon.client() as c:
            one = pods[0]
            applies, recovers = [], []
            for _ in range(args.repeat):
                applies.append(_timed_put(c, one))
                assert inspect(one)["nft_table"]  # the fault really is in the kernel
                recovers.append(_timed_delete(c, one))
                assert not inspect(one)["nft_table"]
            _report("1 target: apply (PUT)", applies)
            _report("1 target: recover (DELETE)", recovers)

            t0 = time.perf_counter()
            applies = [_timed_put(c, pod) for pod in pods]
            apply_all = time.perf_counter() - t0
            assert all(inspect(p)["nft_table"] for p in pods)
            t0 = time.perf_counter()
            recovers = [_timed_delete(c, pod) for pod in pods]
            recover_all = time.perf_counter() - t0
            assert not any(inspect(p)["nft_table"] for p in pods)
            _report(f"{len(pods)} targets: apply (PUT)", applies)
            _report(f"{len(pods)} targets: recover (DELETE)", recovers)
            print(f"{len(pods)} targets: all applied in {apply_all:.2f} s, "
                  f"all recovered in {recover_all:.2f} s (sequential requests)")  # fmt: skip
    finally:
        daemon.kill()
        subprocess.run([*CHAOSD, "recover", "--all", "--state-dir", str(daemon.state_dir)],
                       capture_output=True, check=False)  # fmt: skip
        stop_pods(pods)


if __name__ == "__main__":
    main()
