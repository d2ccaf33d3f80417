"""Prints how closely Faultline's network faults match their configuration on this node.

Run as root: `.venv/bin/python bench/network_accuracy.py`. Uses a throwaway pair of netns pods.
"""

from __future__ import annotations

import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "privileged", "net"))
import netlab

from chaosd.faults.network import family
from chaosd.model import BandwidthFault, DelayFault, LossFault

LOSS_SENT = 10_000
PINGS = 300


def main() -> None:
    with netlab.pod_pair() as (a, b):
        base = statistics.median(netlab.ping_rtts(a, b, 100))
        print(f"baseline RTT median {base:.3f} ms")
        for loss in (10.0, 30.0):
            family.apply(a.target, family.plan(a.target, [LossFault(loss=loss)]))
            got = 100 * (LOSS_SENT - netlab.udp_delivery(a, b, LOSS_SENT)) / LOSS_SENT
            print(f"loss configured {loss:.1f}% measured {got:.2f}% over {LOSS_SENT} datagrams")
        for latency, jitter in ((50, 0), (50, 10), (100, 20)):
            fault = DelayFault(latency=f"{latency}ms", jitter=f"{jitter}ms")
            plan = family.plan(a.target, [fault])
            family.apply(a.target, plan)
            mech = family.verify(a.target, plan).details["delay_mechanism"]
            rtts = [r - base for r in netlab.ping_rtts(a, b, PINGS)]
            print(
                f"delay configured {latency}ms±{jitter}ms via {mech}: added median "
                f"{statistics.median(rtts):.2f} ms, IQR {netlab.spread(rtts):.2f} ms "
                f"(uniform ±{jitter} has IQR {jitter:.2f}), stdev {statistics.stdev(rtts):.2f} ms, "
                f"min {min(rtts):.2f} max {max(rtts):.2f}, {len(rtts)}/{PINGS} replies"
            )
        family.apply(a.target, family.plan(a.target, [BandwidthFault(rate="1mbit")]))
        bps = netlab.tcp_throughput(a, b, seconds=6)
        print(f"bandwidth configured 1 mbit/s measured {bps * 8 / 1e6:.3f} mbit/s TCP goodput")
        family.recover(a.target)


if __name__ == "__main__":
    main()
