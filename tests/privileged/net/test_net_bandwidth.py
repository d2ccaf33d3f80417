"""Bandwidth: a tbf qdisc with Faultline's handle caps TCP throughput."""

from __future__ import annotations

import netlab
import pytest

from chaosd.faults.network import NetworkFamily, owned
from chaosd.model import BandwidthFault

pytestmark = pytest.mark.privileged
ONE_MBIT = 125_000  # bytes per second


def test_bandwidth_1mbit(pods, net: NetworkFamily) -> None:
    a, b = pods
    plan = net.plan(a.target, [BandwidthFault(rate="1mbit")])
    net.apply(a.target, plan)
    check = net.verify(a.target, plan)
    assert check.ok and check.mechanism == "tc-tbf", check
    measured = netlab.tcp_throughput(a, b, seconds=5)
    assert 0.8 * ONE_MBIT <= measured <= 1.2 * ONE_MBIT, measured

    net.recover(a.target)
    assert owned(a.pid)["qdiscs"] == []
    assert netlab.tcp_throughput(a, b, seconds=2) > 10 * ONE_MBIT
