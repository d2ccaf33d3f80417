"""Composition: several faults on one target act at once; removing one leaves the others."""

from __future__ import annotations

import statistics

import netlab
import pytest

from chaosd.faults.network import NetworkFamily, delayers
from chaosd.model import DelayFault, LossFault

pytestmark = pytest.mark.privileged
SENT = 3000


def _loss(a: netlab.Pod, b: netlab.Pod) -> float:
    return 100 * (SENT - netlab.udp_delivery(a, b, SENT, rate=2000)) / SENT


def _added_delay(a: netlab.Pod, b: netlab.Pod, base: float) -> float:
    return statistics.median(netlab.ping_rtts(a, b, 100)) - base


def test_loss_and_delay_together_then_one_removed(pods, net: NetworkFamily) -> None:
    a, b = pods
    base = statistics.median(netlab.ping_rtts(a, b, 50))
    loss, delay = LossFault(loss=20), DelayFault(latency="30ms")

    both = net.plan(a.target, [loss, delay])
    net.apply(a.target, both)
    assert net.verify(a.target, both).ok
    assert 15 <= _loss(a, b) <= 25  # sd 0.73 points at n=3000
    assert 27 <= _added_delay(a, b, base) <= 33

    # Re-applying the identical plan changes nothing: same delayer, counters keep counting.
    before = net.verify(a.target, both).details
    net.apply(a.target, both)
    after = net.verify(a.target, both).details
    assert after["delayer_pids"] == before["delayer_pids"]
    assert after["counters"]["loss#0"] >= before["counters"]["loss#0"] > 0

    only_delay = net.plan(a.target, [delay])
    net.apply(a.target, only_delay)
    assert net.verify(a.target, only_delay).ok
    assert _loss(a, b) == 0
    assert 27 <= _added_delay(a, b, base) <= 33

    only_loss = net.plan(a.target, [loss])
    net.apply(a.target, only_loss)
    assert net.verify(a.target, only_loss).ok
    assert delayers.find(a.target.id) == []
    assert 15 <= _loss(a, b) <= 25
    assert _added_delay(a, b, base) < 5
