"""Faultline's qdiscs (tbf for bandwidth, netem where the kernel has it) inside a target's netns.

Each function here runs in a child that entered the netns (nsexec.call) and talks netlink through
pyroute2. Only qdiscs carrying Faultline's handles are ever replaced or deleted; a device whose
root qdisc is someone else's is left alone and reported.
"""

from __future__ import annotations

import json
import socket
from typing import Any

# Imported here, not in the children: a forked child then inherits it instead of paying ~0.3 s.
from pyroute2 import IPRoute

from chaosd import nsexec
from chaosd.faults.base import FaultError
from chaosd.faults.network.plan import NETEM_HANDLE, TBF_HANDLE, QdiscSpec

OUR_HANDLES = (TBF_HANDLE, NETEM_HANDLE)
_TC_H_ROOT = 0xFFFFFFFF
_DEFAULTS = {"noqueue", "pfifo_fast", "mq", "fq_codel", "pfifo", "fq"}


def _default_device(ipr: Any) -> str:
    for route in ipr.get_default_routes(family=socket.AF_INET) or []:
        oif = route.get("oif") or route.get_attr("RTA_OIF")
        if oif:
            return str(ipr.get_links(oif)[0].get_attr("IFLA_IFNAME"))
    for link in ipr.get_links():
        name = str(link.get_attr("IFLA_IFNAME"))
        if name != "lo":
            return name
    raise FaultError("device: the target has no network interface besides lo")


def _our_roots(ipr: Any) -> list[tuple[str, int, int, str]]:
    """(device, ifindex, handle, kind) of every root qdisc carrying a Faultline handle."""
    names = {link["index"]: str(link.get_attr("IFLA_IFNAME")) for link in ipr.get_links()}
    found = []
    for q in ipr.get_qdiscs():
        if q["parent"] == _TC_H_ROOT and q["handle"] in OUR_HANDLES:
            found.append(
                (names.get(q["index"], "?"), q["index"], q["handle"], q.get_attr("TCA_KIND"))
            )
    return found


def _refuse_foreign_root(ipr: Any, index: int, device: str) -> None:
    # Default qdiscs the kernel installs by itself may be replaced; anything else is someone's
    # configuration and Faultline does not overwrite it.
    for q in ipr.get_qdiscs(index=index):
        kind = q.get_attr("TCA_KIND")
        if q["parent"] == _TC_H_ROOT and q["handle"] not in OUR_HANDLES and kind not in _DEFAULTS:
            raise FaultError(
                f"device: {device} already has a {kind} root qdisc not owned by Faultline"
            )


def _netem_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    # pyroute2's netem takes microseconds for times.
    kw = dict(params)
    for key in ("delay", "jitter"):
        if key in kw:
            kw[key] = int(kw[key] * 1e6)
    return kw


def _apply(specs: tuple[QdiscSpec, ...]) -> str | None:
    with IPRoute() as ipr:
        device = ""
        for spec in specs:
            device = spec.device or _default_device(ipr)
        for dev, index, handle, _ in _our_roots(ipr):
            if dev != device or not specs or specs[0].handle != handle:
                ipr.tc("del", index=index, handle=handle, parent=_TC_H_ROOT)
        if not specs:
            return None
        links = ipr.link_lookup(ifname=device)
        if not links:
            raise FaultError(f"device: no interface {device!r} in the target")
        _refuse_foreign_root(ipr, links[0], device)
        for spec in specs:
            params = dict(spec.params)
            if spec.kind == "netem":
                params = _netem_kwargs(params)
            parent = _TC_H_ROOT if spec.parent is None else spec.parent
            ipr.tc("replace", kind=spec.kind, index=links[0], handle=spec.handle, parent=parent,
                   **params)  # fmt: skip
        return device


def apply(pid: int, specs: tuple[QdiscSpec, ...]) -> str | None:
    """Make the target's Faultline qdiscs match `specs`; returns the device used."""
    return nsexec.call(pid, _apply, specs)


def _read() -> list[dict[str, Any]]:
    with IPRoute() as ipr:
        out = []
        for dev, _, handle, kind in _our_roots(ipr):
            out.append({"device": dev, "handle": f"{handle >> 16:x}:", "kind": kind})
        return out


def our_roots_in_tc_json(text: str) -> list[dict[str, Any]]:
    """Faultline's root qdiscs in the output of `tc -j qdisc show`, shaped as `read` returns
    them: the leak scan reads them with one command instead of a forked child."""
    ours = {f"{h >> 16:x}:" for h in OUR_HANDLES}
    try:
        entries = json.loads(text or "[]")
    except ValueError:
        return []
    return [
        {"device": q.get("dev", "?"), "handle": q["handle"], "kind": q.get("kind", "")}
        for q in entries
        if isinstance(q, dict) and q.get("root") and q.get("handle") in ours
    ]


def read(pid: int) -> list[dict[str, Any]]:
    """Faultline's root qdiscs in the target's netns."""
    return nsexec.call(pid, _read)


def _remove() -> int:
    with IPRoute() as ipr:
        roots = _our_roots(ipr)
        for _, index, handle, _ in roots:
            ipr.tc("del", index=index, handle=handle, parent=_TC_H_ROOT)
        return len(roots)


def remove(pid: int) -> int:
    """Delete every root qdisc carrying a Faultline handle; returns how many there were."""
    return nsexec.call(pid, _remove)
