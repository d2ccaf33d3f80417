"""Delay through the NFQUEUE delayer (this kernel has no sch_netem)."""

from __future__ import annotations

import os
import signal
import statistics

import netlab
import pytest

from chaosd.faults.network import NetworkFamily, delayers
from chaosd.model import DelayFault

pytestmark = pytest.mark.privileged
SAMPLES = 200


def test_delay_50ms_median_and_jitter(pods, net: NetworkFamily) -> None:
    a, b = pods
    base = statistics.median(netlab.ping_rtts(a, b, 100))

    plan = net.plan(a.target, [DelayFault(latency="50ms")])
    net.apply(a.target, plan)
    check = net.verify(a.target, plan)
    assert check.ok, check.problems
    assert check.details["delay_mechanism"] == "nfqueue-delayer"
    steady = netlab.ping_rtts(a, b, SAMPLES)
    assert len(steady) == SAMPLES
    added = statistics.median(steady) - base
    assert 45 <= added <= 55, added

    jittery = net.plan(a.target, [DelayFault(latency="50ms", jitter="10ms")])
    net.apply(a.target, jittery)
    assert net.verify(a.target, jittery).ok
    spread_rtts = netlab.ping_rtts(a, b, SAMPLES)
    added = statistics.median(spread_rtts) - base
    assert 45 <= added <= 55, added
    # Uniform ±10 ms has an inter-quartile range of 10 ms; without jitter it is ~0.
    assert netlab.spread(spread_rtts) >= 5, netlab.spread(spread_rtts)
    assert netlab.spread(spread_rtts) >= netlab.spread(steady) + 4

    net.recover(a.target)
    assert statistics.median(netlab.ping_rtts(a, b, 50)) < 10


def test_traffic_flows_when_the_delayer_dies(pods, net: NetworkFamily) -> None:
    a, b = pods
    net.apply(a.target, net.plan(a.target, [DelayFault(latency="200ms")]))
    assert min(netlab.ping_rtts(a, b, 5)) >= 190
    (running,) = delayers.find(a.target.id)
    os.kill(running.pid, signal.SIGKILL)
    # `queue ... bypass`: with no listener on the queue, packets pass undelayed. A packet the
    # delayer held at the moment it was SIGKILLed is lost (a SIGTERM would have released it).
    rtts = netlab.ping_rtts(a, b, 20)
    assert len(rtts) >= 18 and statistics.median(rtts) < 50
    # Re-applying the same plan notices the missing delayer and restarts it.
    net.apply(a.target, net.plan(a.target, [DelayFault(latency="200ms")]))
    assert min(netlab.ping_rtts(a, b, 5)) >= 190
