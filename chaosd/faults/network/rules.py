"""nftables text for Faultline's per-target table.

Everything Faultline does with nftables in a target's netns lives in one table, `inet faultline`,
so recovery is a single `delete table` and no other table (the pod's, kube-proxy's, the CNI's) is
ever read or written. Every change to it is one `nft -f` transaction.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from chaosd.model import Peer

TABLE = "faultline"
FAMILY = "inet"
# Before the usual filter priority so our verdicts do not depend on another table accepting
# first; a drop anywhere is final, and a packet reinjected by the delayer continues at the next
# hook entry.
PRIORITY = -10
HOOK_CHAIN = {"to": ("output", "oifname"), "from": ("input", "iifname")}


def _set(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else "{ " + ", ".join(items) + " }"


def peer_matches(peer: Peer, way: str) -> str:
    """Match expression for one peer; `way` is "to" (the peer is the destination) or "from"."""
    net = ipaddress.ip_network(peer.cidr)
    addr_side = "daddr" if way == "to" else "saddr"
    port_side = "dport" if way == "to" else "sport"
    parts = [f"{'ip' if net.version == 4 else 'ip6'} {addr_side} {net}"]
    ports = [str(p) for p in sorted(set(peer.ports))]
    if peer.protocol == "any":
        if ports:
            parts.append(f"meta l4proto {{ tcp, udp }} th {port_side} {_set(ports)}")
    elif ports:
        parts.append(f"{peer.protocol} {port_side} {_set(ports)}")
    else:
        parts.append(f"meta l4proto {peer.protocol}")
    return " ".join(parts)


def fault_rules(
    peers: Sequence[Peer], way: str, device: str | None, action: str, tag: str
) -> list[str]:
    """One rule per peer (or a single rule for every peer) ending in `action`."""
    _, if_key = HOOK_CHAIN[way]
    dev = f'{if_key} "{device}" ' if device else ""
    # The comment carries the fault's tag so `verify` can find each planned rule again.
    tail = f'counter {action} comment "{tag}"'
    if not peers:
        return [f"{dev}{tail}"]
    return [f"{dev}{peer_matches(p, way)} {tail}" for p in peers]


def loss_action(percent: float) -> str:
    # Basis points so fractional percentages (0.5 %) keep their precision. nft refuses a
    # comparison with 10000 (outside the numgen range), and 100 % needs no dice anyway.
    basis_points = round(percent * 100)
    if basis_points >= 10000:
        return "drop"
    return f"numgen random mod 10000 < {basis_points} drop"


def delay_chain(queue: int) -> str:
    return f"delay_{queue}"


def render_transaction(
    target_id: str,
    digest: str,
    chains: dict[str, list[str]],
    delay_queues: Sequence[int],
    existing_delay_queues: Sequence[int],
    native_queue: bool,
) -> str:
    """One `nft -f` file that brings the table to the plan in a single kernel transaction.

    The base chains are flushed and refilled, so there is never a moment with half the rules.
    Delay chains (`delay_<queue>`, holding only the queue verdict) are kept when still wanted:
    on kernels without nft_queue their verdict is an xt NFQUEUE target added over netlink after
    this transaction (see `nft.py`), and keeping them means a re-plan never has a gap in the delay.
    """
    out = [f'add table {FAMILY} {TABLE} {{ comment "faultline target={target_id}"; }}']
    for way in ("to", "from"):
        chain, _ = HOOK_CHAIN[way]
        out.append(
            f"add chain {FAMILY} {TABLE} {chain} "
            f"{{ type filter hook {chain} priority {PRIORITY}; policy accept; }}"
        )
    for q in delay_queues:
        out.append(f"add chain {FAMILY} {TABLE} {delay_chain(q)}")
    for way in ("to", "from"):
        chain, if_key = HOOK_CHAIN[way]
        out.append(f"flush chain {FAMILY} {TABLE} {chain}")
        # Loopback stays untouched: a pod's containers talk to each other over it. The rule's
        # comment carries the plan digest so re-applying an identical plan is a no-op.
        out.append(
            f'add rule {FAMILY} {TABLE} {chain} {if_key} "lo" accept '
            f'comment "faultline target={target_id} plan={digest}"'
        )
        out.extend(f"add rule {FAMILY} {TABLE} {chain} {rule}" for rule in chains.get(chain, []))
    for q in existing_delay_queues:
        if q not in delay_queues:
            out.append(f"flush chain {FAMILY} {TABLE} {delay_chain(q)}")
            out.append(f"delete chain {FAMILY} {TABLE} {delay_chain(q)}")
    if native_queue:
        for q in delay_queues:
            out.append(f"flush chain {FAMILY} {TABLE} {delay_chain(q)}")
            out.append(f"add rule {FAMILY} {TABLE} {delay_chain(q)} queue num {q} bypass")
    return "\n".join(out) + "\n"


def delete_transaction() -> str:
    """Removes the table if present (`add` first makes the `delete` valid when it is absent)."""
    return f"add table {FAMILY} {TABLE}\ndelete table {FAMILY} {TABLE}\n"
