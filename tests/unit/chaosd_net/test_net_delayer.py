"""The delayer's release schedule (pure logic; the process itself is tested privileged)."""

from __future__ import annotations

import random

from chaosd.faults.network.delayer import Delayer


def test_fixed_latency_keeps_order() -> None:
    d = Delayer(latency=0.05, jitter=0.0, correlation=0, reorder=0)
    dues = [d.due(t / 100) for t in range(10)]
    assert dues == [t / 100 + 0.05 for t in range(10)]


def test_jitter_stays_in_bounds_and_never_reorders() -> None:
    random.seed(7)
    d = Delayer(latency=0.05, jitter=0.01, correlation=0, reorder=0)
    dues = [d.due(t * 0.001) for t in range(2000)]
    assert dues == sorted(dues)
    added = [due - t * 0.001 for t, due in enumerate(dues)]
    assert min(added) >= 0.04 - 1e-9
    assert max(added) - min(added) > 0.015  # the jitter really spreads the delays


def test_reorder_sends_a_share_at_once() -> None:
    random.seed(3)
    d = Delayer(latency=0.05, jitter=0.0, correlation=0, reorder=25)
    immediate = sum(d.due(0.0) is None for _ in range(4000))
    assert 850 <= immediate <= 1150


def test_release_accepts_only_due_packets() -> None:
    d = Delayer(latency=0.05, jitter=0.0, correlation=0, reorder=0)
    accepted: list[int] = []

    class P:
        def __init__(self, n: int) -> None:
            self.n = n

        def accept(self) -> None:
            accepted.append(self.n)

    d.held.extend([(0.1, P(1)), (0.2, P(2))])
    d.release(0.15)
    assert accepted == [1]
    d.release_all()
    assert accepted == [1, 2]
