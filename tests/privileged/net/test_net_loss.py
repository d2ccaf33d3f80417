"""Loss: the measured share of lost datagrams matches the configured percentage."""

from __future__ import annotations

import netlab
import pytest

from chaosd.faults.network import NetworkFamily
from chaosd.model import DelayFault, LossFault, Peer

pytestmark = pytest.mark.privileged


def test_loss_30_percent_over_6000_datagrams(pods, net: NetworkFamily) -> None:
    a, b = pods
    plan = net.plan(a.target, [LossFault(loss=30)])
    net.apply(a.target, plan)
    sent = 6000
    lost = 100 * (sent - netlab.udp_delivery(a, b, sent)) / sent
    # Binomial sd at p=0.3, n=6000 is 0.6 points: ±3 points is about 5 sd.
    assert 27 <= lost <= 33, lost
    assert net.verify(a.target, plan).details["counters"]["loss#0"] >= sent


def test_loss_from_direction_hits_only_incoming(pods, net: NetworkFamily) -> None:
    a, b = pods
    net.apply(b.target, net.plan(b.target, [LossFault(loss=50, direction="from",
                                                      peers=[Peer(cidr=a.ip)])]))  # fmt: skip
    arrived = netlab.udp_delivery(a, b, 3000)
    assert 1350 <= arrived <= 1650, arrived
    assert netlab.udp_delivery(b, a, 1000) == 1000

    net.recover(b.target)
    assert netlab.udp_delivery(a, b, 1000) == 1000


def test_loss_100_percent_drops_everything(pods, net: NetworkFamily) -> None:
    a, b = pods
    plan = net.plan(a.target, [LossFault(loss=100)])
    net.apply(a.target, plan)
    assert netlab.udp_delivery(a, b, 500) == 0
    net.recover(a.target)
    assert netlab.udp_delivery(a, b, 500) == 500


def test_loss_listed_after_a_delay_still_drops(pods, net: NetworkFamily) -> None:
    a, b = pods
    plan = net.plan(a.target, [DelayFault(latency="5ms"), LossFault(loss=100)])
    net.apply(a.target, plan)
    assert netlab.udp_delivery(a, b, 300) == 0
    net.recover(a.target)
