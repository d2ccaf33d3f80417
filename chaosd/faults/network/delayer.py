"""The Faultline delayer: a helper process that holds packets of one NFQUEUE, then accepts them.

It exists because this kernel has no sch_netem. chaosd starts it inside the target's netns with
a command line such as::

    python delayer.py faultline-delayer target=<id> queue=<n> latency=0.05 jitter=0.01 ...

The marker and the target id in that command line are how recovery finds it in /proc even after
chaosd itself crashed. The queue rule uses `bypass`, so if the delayer dies traffic flows again.

This file runs as a plain script (not `-m`) and imports only the standard library and
NetfilterQueue, so it starts fast and does not drag chaosd's dependencies into the target.
"""

from __future__ import annotations

import collections
import os
import random
import select
import signal
import sys
import time
from typing import Any

MARKER = "faultline-delayer"


def parse_args(argv: list[str]) -> dict[str, str]:
    if not argv or argv[0] != MARKER:
        raise SystemExit(f"usage: delayer.py {MARKER} target=<id> queue=<n> latency=<s> ...")
    return dict(arg.split("=", 1) for arg in argv[1:])


class Delayer:
    """Holds packets in arrival order and releases each at its due time."""

    def __init__(self, latency: float, jitter: float, correlation: float, reorder: float) -> None:
        self.latency, self.jitter = latency, jitter
        self.correlation, self.reorder = correlation / 100, reorder / 100
        self.held: collections.deque[tuple[float, Any]] = collections.deque()
        self.last_due = 0.0
        self.last_jitter = 0.0

    def due(self, now: float) -> float | None:
        """When a packet arriving now leaves; None means at once (a reordered packet)."""
        if self.reorder and random.random() < self.reorder:
            return None
        # Correlation as netem does it: the next jitter sample leans on the previous one.
        fresh = random.uniform(-self.jitter, self.jitter)
        self.last_jitter = self.correlation * self.last_jitter + (1 - self.correlation) * fresh
        due = now + max(0.0, self.latency + self.last_jitter)
        # Packets leave in arrival order: a short draw waits behind a longer one before it.
        self.last_due = max(due, self.last_due)
        return self.last_due

    def on_packet(self, pkt: Any) -> None:
        due = self.due(time.monotonic())
        if due is None:
            pkt.accept()
        else:
            self.held.append((due, pkt))

    def release(self, now: float) -> None:
        while self.held and self.held[0][0] <= now:
            self.held.popleft()[1].accept()

    def release_all(self) -> None:
        while self.held:
            self.held.popleft()[1].accept()


def main(argv: list[str]) -> int:
    from netfilterqueue import COPY_META, NetfilterQueue

    args = parse_args(argv)
    delayer = Delayer(
        float(args["latency"]), float(args.get("jitter", 0)),
        float(args.get("correlation", 0)), float(args.get("reorder", 0)),
    )  # fmt: skip
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.append(True))
    nfq = NetfilterQueue()
    # Only metadata is copied to us: the delayer never reads or changes packet contents.
    nfq.bind(int(args["queue"]), delayer.on_packet, max_len=65536, mode=COPY_META,
             sock_len=16 * 1024 * 1024)  # fmt: skip
    fd = nfq.get_fd()
    print("ready", flush=True)
    try:
        while not stopping:
            timeout = max(0.0, delayer.held[0][0] - time.monotonic()) if delayer.held else None
            ready, _, _ = select.select([fd, wake_r], [], [], timeout)
            if wake_r in ready:
                os.read(wake_r, 512)
            if fd in ready:
                nfq.run(block=False)
            delayer.release(time.monotonic())
    finally:
        # Let held packets go rather than drop them: stopping the fault must not lose traffic.
        delayer.release_all()
        nfq.unbind()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
