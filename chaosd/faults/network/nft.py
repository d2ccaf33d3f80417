"""Reading and writing the Faultline nft table inside a target's netns.

Rules go in as `nft -f` text. On kernels without nft_queue (CONFIG_NFT_QUEUE unset, as on this
project's dev nodes) the `nft` tool cannot express a queue verdict, but the kernel still offers the
xtables NFQUEUE target through nft_compat; that one expression is written over netlink with
pyroute2 into the table's own `delay_<queue>` chain.
"""

from __future__ import annotations

import json
import re
import struct
from typing import Any

from pyroute2.nftables.expressions import genex
from pyroute2.nftables.main import NFTables

from chaosd import nsexec
from chaosd.faults.base import FaultError
from chaosd.faults.network.rules import FAMILY, TABLE, delay_chain

_NFPROTO_INET = 1
_NFQ_FLAG_BYPASS = 0x01


def read_table(pid: int) -> dict[str, Any] | None:
    """The table as nft's JSON objects grouped by kind, or None when it does not exist."""
    proc = nsexec.run(pid, ["nft", "-j", "list", "table", FAMILY, TABLE], check=False)
    if proc.returncode != 0:
        if "No such file or directory" in proc.stderr:
            return None
        nsexec.ns_path(pid, "net")  # raises TargetGone if that was the cause
        raise FaultError(f"nft list table in pid {pid}: {proc.stderr.strip()}")
    table: dict[str, Any] = {"table": None, "chains": {}, "rules": []}
    for item in json.loads(proc.stdout)["nftables"]:
        if "table" in item:
            table["table"] = item["table"]
        elif "chain" in item:
            table["chains"][item["chain"]["name"]] = item["chain"]
        elif "rule" in item:
            table["rules"].append(item["rule"])
    # nft 1.0.x leaves the table's comment out of its JSON; the text listing has it.
    text = nsexec.run(pid, ["nft", "list", "table", FAMILY, TABLE], check=False).stdout
    m = re.search(r'^table [^\n]*\{\n\s*comment "([^"]*)"', text)
    if table["table"] is not None and m:
        table["table"]["comment"] = m.group(1)
    return table


def existing_delay_queues(table: dict[str, Any] | None) -> list[int]:
    if table is None:
        return []
    names = table["chains"]
    return sorted(int(n.split("_", 1)[1]) for n in names if n.startswith("delay_"))


def queue_rule_present(table: dict[str, Any], queue: int) -> bool:
    return any(r["chain"] == delay_chain(queue) for r in table["rules"])


def run_transaction(pid: int, text: str) -> None:
    try:
        nsexec.run(pid, ["nft", "-f", "-"], input=text)
    except nsexec.NamespaceError as e:
        raise FaultError(f"nftables rejected the plan: {e}") from e


def _add_xt_queue(queue: int) -> None:
    # Runs inside the target's netns (see nsexec.call).
    # struct xt_NFQ_info_v3 {u16 queuenum, queues_total, flags}, padded to XT_ALIGN (8).
    info = struct.pack("=HHH", queue, 1, _NFQ_FLAG_BYPASS) + b"\0\0"
    target = genex("target", {"name": "NFQUEUE", "rev": 3, "info": info})
    nft = NFTables(nfgen_family=_NFPROTO_INET)
    try:
        nft.rule("add", table=TABLE, chain=delay_chain(queue), expressions=([target],))
    finally:
        nft.close()


def add_xt_queue(pid: int, queue: int) -> None:
    nsexec.call(pid, _add_xt_queue, queue)
