"""The network fault family: flush-and-apply of one target's complete network fault set.

A target's state lives in three places, all recognisable without any memory of past applies:
the nft table `inet faultline`, root qdiscs with Faultline handles, and delayer processes whose
command line carries the target id. `apply` makes all three match the plan, `recover` removes
them, `verify` and `owned` read them back.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from typing import Any

from chaosd import nsexec
from chaosd.faults.base import FaultError, Owned, TargetGone, TargetRef, Verification
from chaosd.faults.network import capability, delayers, nft, qdisc
from chaosd.faults.network.plan import Capabilities, NetworkPlan, build_plan
from chaosd.faults.network.rules import FAMILY, TABLE, delete_transaction

_COMMENT = re.compile(r'comment "([^"]*)"')
_CUT = "--faultline-census--"
_TABLE_TARGET = re.compile(r'^table [^\n]*\{\n\s*comment "faultline target=([^"]*)"')


class NetworkFamily:
    name = "network"
    namespace = "net"

    def __init__(self, capabilities: Capabilities | None = None) -> None:
        self._caps = capabilities

    @property
    def capabilities(self) -> Capabilities:
        if self._caps is None:
            self._caps = capability.probe()
        return self._caps

    def plan(self, target: TargetRef, faults: Sequence[Any]) -> NetworkPlan:
        return build_plan(target.id, faults, self.capabilities)

    def apply(self, target: TargetRef, plan: NetworkPlan) -> None:
        if plan.target_id != target.id:
            raise FaultError(f"target.id: plan is for {plan.target_id!r}, not {target.id!r}")
        netns = nsexec.ns_inode(target.pid)
        wanted = {tuple(d.args(target.id)): d for d in plan.delayers}
        running = delayers.find(target.id)
        # Queue numbers are reused, so a delayer whose settings changed must go before its
        # successor can bind; meanwhile `bypass` lets packets through undelayed.
        stale = [d.pid for d in running if d.args not in wanted or not _in(d.pid, netns)]
        delayers.stop(stale)
        kept = {d.args for d in running if d.pid not in stale}
        for args, spec in wanted.items():
            if args not in kept:
                delayers.start(target.pid, target.id, spec)
        self._apply_table(target, plan)
        qdisc.apply(target.pid, plan.qdiscs)

    def _apply_table(self, target: TargetRef, plan: NetworkPlan) -> None:
        table = nft.read_table(target.pid)
        if not plan.needs_table:
            if table is not None:
                nft.run_transaction(target.pid, plan.nft_transaction([]))
            return
        if table is None or not _matches(table, plan):
            existing = nft.existing_delay_queues(table)
            nft.run_transaction(target.pid, plan.nft_transaction(existing))
            if plan.delayers and not plan.native_queue:
                table = nft.read_table(target.pid)
        if not plan.native_queue and table is not None:
            for d in plan.delayers:
                if not nft.queue_rule_present(table, d.queue):
                    nft.add_xt_queue(target.pid, d.queue)

    def recover(self, target: TargetRef) -> None:
        delayers.stop([d.pid for d in delayers.find(target.id)])
        with contextlib.suppress(TargetGone):
            nft.run_transaction(target.pid, NetworkPlan(target.id).nft_transaction([]))
            qdisc.remove(target.pid)

    def verify(self, target: TargetRef, plan: NetworkPlan) -> Verification:
        problems: list[str] = []
        netns = nsexec.ns_inode(target.pid)
        table = nft.read_table(target.pid)
        details: dict[str, Any] = {"table": table is not None, "counters": _counters(table)}
        if plan.needs_table:
            if table is None:
                problems.append(f"table inet {TABLE} is missing")
            else:
                problems += _table_problems(table, plan)
        elif table is not None:
            problems.append(f"table inet {TABLE} is present but the plan has no rules")
        running = delayers.find(target.id, netns_inode=netns)
        details["delayer_pids"] = [d.pid for d in running]
        want = sorted(tuple(d.args(target.id)) for d in plan.delayers)
        if sorted(d.args for d in running) != want:
            problems.append(f"delayers: want {len(want)} with the planned settings, "
                            f"found {[' '.join(d.args) for d in running]}")  # fmt: skip
        qdiscs = qdisc.read(target.pid)
        details["qdiscs"] = qdiscs
        root = [q for q in plan.qdiscs if q.parent is None]
        want_q = [(f"{q.handle >> 16:x}:", q.kind) for q in root]
        if [(q["handle"], q["kind"]) for q in qdiscs] != want_q:
            problems.append(f"qdisc: want {want_q}, found {qdiscs}")
        details["delay_mechanism"] = (
            "nfqueue-delayer" if plan.delayers else "netem" if "netem" in plan.mechanisms else ""
        )
        return Verification(not problems, "+".join(plan.mechanisms), details, problems)

    def census(self, pid: int) -> list[Owned]:
        """The `inet faultline` table, Faultline's root qdiscs and the delayers in the netns.
        One command reads table and qdiscs (a forked child per namespace cost three times as
        much: bench/leak_scan.py)."""
        script = f"nft list table {FAMILY} {TABLE} 2>/dev/null; echo {_CUT}; tc -j qdisc show"
        out = nsexec.run(pid, ["sh", "-c", script], check=False).stdout
        table, _, tc = out.partition(_CUT + "\n")
        found = []
        if table.startswith("table "):
            m = _TABLE_TARGET.search(table)
            found.append(Owned("nft_table", m.group(1) if m else "", f"{FAMILY} {TABLE}"))
        found += [
            Owned("qdisc", "", f"{q['device']} {q['handle']}")
            for q in qdisc.our_roots_in_tc_json(tc)
        ]
        netns = nsexec.ns_inode(pid)
        found += [
            Owned("delayer", d.target_id, str(d.pid)) for d in delayers.find(netns_inode=netns)
        ]
        return found

    def remove_owned(self, pid: int, item: Owned) -> None:
        if item.kind == "nft_table":
            nft.run_transaction(pid, delete_transaction())
        elif item.kind == "qdisc":
            qdisc.remove(pid)  # every root qdisc with a Faultline handle: never a foreign one
        elif item.kind == "delayer":
            mine = {d.pid for d in delayers.find(netns_inode=nsexec.ns_inode(pid))}
            delayers.stop([int(item.key)] if int(item.key) in mine else [])
        else:
            raise FaultError(f"network: no such owned kind {item.kind!r}")


def _in(pid: int, netns: int) -> bool:
    try:
        return nsexec.ns_inode(pid) == netns
    except TargetGone:
        return False


def _lo_comments(table: dict[str, Any]) -> list[str]:
    return [
        r.get("comment", "") for r in table["rules"] if "faultline target=" in r.get("comment", "")
    ]


def _matches(table: dict[str, Any], plan: NetworkPlan) -> bool:
    want = f"faultline target={plan.target_id} plan={plan.digest}"
    return _lo_comments(table) == [want, want] and not _table_problems(table, plan)


def _table_problems(table: dict[str, Any], plan: NetworkPlan) -> list[str]:
    problems = []
    comment = (table["table"] or {}).get("comment", "")
    if comment != f"faultline target={plan.target_id}":
        problems.append(f"table comment {comment!r} does not name target {plan.target_id!r}")
    want = sorted(t for rules in plan.chains.values() for r in rules for t in _COMMENT.findall(r))
    have = sorted(r["comment"] for r in table["rules"] if "#" in r.get("comment", ""))
    if want != have:
        problems.append(f"rules: want {want}, found {have}")
    for d in plan.delayers:
        if not nft.queue_rule_present(table, d.queue):
            problems.append(f"queue {d.queue}: no queue verdict in delay chain")
    return problems


def _counters(table: dict[str, Any] | None) -> dict[str, int]:
    """Packets each planned rule has matched so far, by the rule's tag."""
    out: dict[str, int] = {}
    for rule in (table or {}).get("rules", []):
        tag = rule.get("comment", "")
        for expr in rule.get("expr", []):
            if "counter" in expr and "#" in tag:
                out[tag] = out.get(tag, 0) + int(expr["counter"]["packets"])
    return out


def owned(pid: int) -> dict[str, Any]:
    """Everything Faultline owns in the netns of `pid`: table, qdiscs, delayer pids.

    Raises TargetGone when the process no longer exists.
    """
    netns = nsexec.ns_inode(pid)
    table = nft.read_table(pid)
    return {
        "table": table is not None,
        "table_comment": ((table or {}).get("table") or {}).get("comment"),
        "qdiscs": qdisc.read(pid),
        "delayer_pids": [d.pid for d in delayers.find(netns_inode=netns)],
    }
