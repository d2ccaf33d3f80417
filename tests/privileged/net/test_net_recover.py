"""Recovery leaves nothing behind, is idempotent and needs no memory of apply."""

from __future__ import annotations

import subprocess

import netlab
import pytest

from chaosd.faults.base import TargetRef, UnsupportedFault
from chaosd.faults.network import NetworkFamily, delayers, owned
from chaosd.model import BandwidthFault, CorruptFault, DelayFault, DuplicateFault, LossFault, Peer

pytestmark = pytest.mark.privileged
NOTHING = {"table": False, "table_comment": None, "qdiscs": [], "delayer_pids": []}


def test_recover_removes_everything_without_memory(pods, net: NetworkFamily) -> None:
    a, b = pods
    faults = [LossFault(loss=10, peers=[Peer(cidr=b.ip)]), DelayFault(latency="10ms"),
              BandwidthFault(rate="10mbit")]  # fmt: skip
    net.apply(a.target, net.plan(a.target, faults))
    held = owned(a.pid)
    assert held["table"] and held["qdiscs"] and held["delayer_pids"]
    assert held["table_comment"] == f"faultline target={a.target.id}"

    # A fresh family instance knows nothing about that apply (as after a chaosd restart).
    fresh = NetworkFamily()
    fresh.recover(a.target)
    assert owned(a.pid) == NOTHING
    fresh.recover(a.target)
    assert owned(a.pid) == NOTHING
    assert netlab.udp_delivery(a, b, 500) == 500


def test_recover_never_applied_target(pods, net: NetworkFamily) -> None:
    a, _ = pods
    net.recover(a.target)
    net.recover(a.target)
    assert owned(a.pid) == NOTHING


def test_recover_gone_target_is_quiet_and_kills_its_delayer(net: NetworkFamily) -> None:
    proc = netlab.start_pod("netlab-gone")
    pod = netlab.Pod(proc, TargetRef(f"netlab-gone-{proc.pid}", proc.pid), "")
    try:
        net.apply(pod.target, net.plan(pod.target, [DelayFault(latency="10ms")]))
        assert len(delayers.find(pod.target.id)) == 1
    finally:
        proc.kill()
        proc.wait()
    net.recover(pod.target)  # the netns is only held by the delayer now
    assert delayers.find(pod.target.id) == []


@pytest.mark.parametrize("fault", [DuplicateFault(duplicate=5), CorruptFault(corrupt=5)])
def test_duplicate_and_corrupt_rejected_without_netem(pods, net: NetworkFamily, fault) -> None:
    a, _ = pods
    assert not net.capabilities.netem
    probe = subprocess.run(["unshare", "--net", "tc", "qdisc", "add", "dev", "lo", "root",
                            "netem", "delay", "1ms"], capture_output=True, text=True)  # fmt: skip
    assert probe.returncode != 0  # the kernel really lacks sch_netem
    with pytest.raises(UnsupportedFault, match="kernel lacks sch_netem") as err:
        net.plan(a.target, [LossFault(loss=1), fault])
    assert fault.kind in str(err.value) and "faults[1]" in str(err.value)
