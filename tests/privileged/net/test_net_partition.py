"""Partition: the chosen direction is cut completely, the other one is untouched."""

from __future__ import annotations

import netlab
import pytest

from chaosd.faults.network import NetworkFamily
from chaosd.model import PartitionFault, Peer

pytestmark = pytest.mark.privileged
N = 300


@pytest.mark.parametrize("direction", ["to", "from", "both"])
def test_partition_direction(pods, net: NetworkFamily, direction: str) -> None:
    a, b = pods
    plan = net.plan(a.target, [PartitionFault(direction=direction, peers=[Peer(cidr=b.ip)])])
    net.apply(a.target, plan)
    assert net.verify(a.target, plan).ok

    a_to_b = netlab.udp_delivery(a, b, N)
    b_to_a = netlab.udp_delivery(b, a, N)
    assert a_to_b == (0 if direction in ("to", "both") else N)
    assert b_to_a == (0 if direction in ("from", "both") else N)
    counters = net.verify(a.target, plan).details["counters"]
    assert counters["partition#0"] >= N

    net.recover(a.target)
    assert netlab.udp_delivery(a, b, N) == N
    assert netlab.udp_delivery(b, a, N) == N


def test_partition_only_listed_port(pods, net: NetworkFamily) -> None:
    a, b = pods
    peer = Peer(cidr=f"{b.ip}/32", ports=[31001], protocol="udp")
    net.apply(a.target, net.plan(a.target, [PartitionFault(peers=[peer])]))
    assert netlab.udp_delivery(a, b, N, port=31001) == 0
    assert netlab.udp_delivery(a, b, N, port=31002) == N
