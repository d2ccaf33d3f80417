"""Leases and target exits against a real `chaosd serve` and real netns."""

from __future__ import annotations

import time

import pytest
from engine_lab import Daemon, Pod, inspect, reachable

pytestmark = pytest.mark.privileged


def partition_from(b: Pod) -> dict[str, object]:
    return {"kind": "partition", "peers": [{"cidr": f"{b.ip}/32"}], "direction": "both"}


def test_lapsed_lease_recovers_within_lease_plus_two_seconds(
    daemon: Daemon, pods: list[Pod]
) -> None:
    a, b = pods
    daemon.start()
    lease = 2.0
    with daemon.client() as c:
        sent = time.monotonic()
        r = c.put(f"/targets/{a.id}", json={"pid": a.pid, "faults": [partition_from(b)],
                                           "lease_seconds": lease})  # fmt: skip
        assert r.status_code == 200, r.text
        assert not reachable(a, b)  # the partition is really in force
        while inspect(a)["nft_table"]:
            time.sleep(0.02)
        recovered = time.monotonic() - sent
    print(f"lease {lease}s: recovered {recovered:.2f}s after the PUT was sent")
    assert recovered <= lease + 2.0  # the contract: within lease + 2 s
    assert reachable(a, b)
    with daemon.client() as c:
        assert c.get(f"/targets/{a.id}").status_code == 404
        assert "chaosd_lease_lapses_total 1.0" in c.get("/metrics").text


def test_renewed_lease_keeps_fault(daemon: Daemon, pods: list[Pod]) -> None:
    a, b = pods
    daemon.start()
    with daemon.client() as c:
        body = {"pid": a.pid, "faults": [partition_from(b)], "lease_seconds": 1.5}
        assert c.put(f"/targets/{a.id}", json=body).status_code == 200
        for _ in range(4):  # 4 s in all, well past the original lease
            time.sleep(1.0)
            assert c.post(f"/targets/{a.id}/renew").status_code == 200
        assert inspect(a)["nft_table"] and not reachable(a, b)
        assert c.delete(f"/targets/{a.id}").status_code == 204
    held = inspect(a)
    assert not held["nft_table"] and not held["qdiscs"] and not held["delayers"], held
    assert reachable(a, b)


def test_lease_lapsing_while_chaosd_is_down_is_recovered_on_start(
    daemon: Daemon, pods: list[Pod]
) -> None:
    a, b = pods
    daemon.start()
    with daemon.client() as c:
        body = {"pid": a.pid, "faults": [partition_from(b)], "lease_seconds": 1}
        assert c.put(f"/targets/{a.id}", json=body).status_code == 200
    daemon.kill()
    assert inspect(a)["nft_table"]  # nobody recovers while chaosd is dead...
    time.sleep(1.5)
    daemon.start()  # ...and the next start does, before it serves
    assert inspect(a)["nft_table"] is False
    assert reachable(a, b)


def test_target_exit_drops_entry_without_error(daemon: Daemon, pods: list[Pod]) -> None:
    _, b = pods
    daemon.start()
    with daemon.client() as c:
        body = {"pid": b.pid, "faults": [{"kind": "loss", "loss": 50}], "lease_seconds": 600}
        assert c.put(f"/targets/{b.id}", json=body).status_code == 200
        b.proc.kill()
        b.proc.wait()
        while c.get(f"/targets/{b.id}").status_code == 200:
            time.sleep(0.05)
        assert c.get(f"/targets/{b.id}").status_code == 404
        assert "chaosd_targets_gone_total 1.0" in c.get("/metrics").text
    log = daemon.log.read_text()
    assert "ERROR" not in log and "Traceback" not in log, log
