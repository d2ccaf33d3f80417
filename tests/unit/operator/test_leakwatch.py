"""The operator's leak watch: each chaosd repair is told once, as a Warning Event per node."""

from __future__ import annotations

from typing import Any

from backend.clients.chaosd import ChaosdError
from backend.operator.leakwatch import REASON, LeakWatch


class Node:
    """A chaosd's /doctor/repairs answers (a fake is fine: the logic under test is the
    operator's bookkeeping; the route itself is tested against a real chaosd)."""

    def __init__(self) -> None:
        self.repairs: list[dict[str, Any]] = []
        self.down = False

    def repair(self, kind: str) -> None:
        self.repairs.append({"seq": len(self.repairs) + 1, "kind": kind, "key": "k",
                             "target": "t", "namespace": "net:[1]"})  # fmt: skip

    def leak_repairs(self, after: int = 0) -> dict[str, Any]:
        if self.down:
            raise ChaosdError("unreachable")
        return {"seq": len(self.repairs), "repairs": [r for r in self.repairs if r["seq"] > after]}


def test_each_repair_is_told_once_and_a_restarted_chaosd_is_followed() -> None:
    node = Node()
    posted: list[tuple[dict[str, str], str, str, str]] = []
    watch = LeakWatch(lambda: {"127.0.0.1:9797": node}, lambda *a: posted.append(a), "fl", 0)  # type: ignore[arg-type,dict-item]
    assert watch.poll_once() == 0 and posted == []
    node.repair("nft_table")
    node.repair("delayer")
    assert watch.poll_once() == 2
    involved, type_, reason, message = posted[-1]
    assert (type_, reason) == ("Warning", REASON)
    assert involved == {"apiVersion": "v1", "kind": "Node", "name": "127.0.0.1-9797",
                        "namespace": "fl"}  # fmt: skip
    assert "nft_table" in message and "delayer" in message and "2 leaked" in message
    assert watch.poll_once() == 0 and len(posted) == 1  # nothing new, nothing told
    node.down = True
    assert watch.poll_once() == 0
    node.down, node.repairs = False, []  # chaosd restarted: its numbering begins again
    node.repair("qdisc")
    assert watch.poll_once() == 1 and "qdisc" in posted[-1][3]
