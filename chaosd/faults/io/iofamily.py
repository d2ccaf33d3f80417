"""The IO fault family: one FUSE layer per faulted volume of a target, flush-and-apply.

What Faultline owns for a target is read back from the kernel every time: FUSE mounts with
source `faultline:<target-id>` in the target's mountinfo, and layer servers whose command line
carries `target=<target-id>`. `apply` reconfigures live layers in place (no remount), starts
missing ones and releases unwanted ones; `recover` releases all of them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from typing import Any

from chaosd import nsexec
from chaosd.faults.base import FaultError, Owned, TargetGone, TargetRef, Verification
from chaosd.faults.io import control, mounts
from chaosd.faults.io.control import ServerProc
from chaosd.faults.io.plan import IOPlan, build_plan
from chaosd.faults.io.rules import IORule
from chaosd.faults.io.server import DEFAULT_DRAIN_SECONDS


def _mnt_ns(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/mnt").st_ino
    except OSError:
        return None


class IOFamily:
    name = "io"
    namespace = "mnt"

    def __init__(self, *, drain_seconds: float = DEFAULT_DRAIN_SECONDS, log: str | None = None):
        self.drain_seconds = drain_seconds
        """How long a released layer keeps serving files still open through it."""
        self.log = log

    def plan(self, target: TargetRef, faults: Sequence[Any]) -> IOPlan:
        return build_plan(target.id, faults)

    def _active(self, target: TargetRef) -> tuple[dict[str, tuple[ServerProc, dict[str, Any]]],
                                                  list[ServerProc]]:  # fmt: skip
        """Active servers by volume, plus servers that do not answer."""
        ns = _mnt_ns(target.pid)
        active: dict[str, tuple[ServerProc, dict[str, Any]]] = {}
        silent = []
        for server in control.find_servers(target.id):
            state = control.status(server.pid)
            if state is None:
                silent.append(server)
            elif state["state"] == "active" and _mnt_ns(server.pid) == ns:
                active[server.volume] = (server, state)
        return active, silent

    def apply(self, target: TargetRef, plan: IOPlan) -> None:
        if plan.target_id != target.id:
            raise FaultError(f"target.id: plan is for {plan.target_id!r}, not {target.id!r}")
        nsexec.ns_path(target.pid, "mnt")  # TargetGone early
        wanted = plan.by_volume()
        active, silent = self._active(target)
        mounted = {e.mount_point for e in self._mounts(target)}
        for volume, (server, _) in list(active.items()):
            if volume not in mounted:  # unmounted behind our back: start afresh
                with contextlib.suppress(control.ServerUnreachable):
                    control.rpc(server.pid, {"op": "stop"})
                del active[volume]
            elif volume not in wanted:
                self._release(server, silent)
        self._clear_stale(target, keep=set(active) & set(wanted), silent=silent)
        for volume, vp in wanted.items():
            running = active.get(volume)
            if running is None:
                control.start_server(
                    target.id, target.pid, volume,
                    {"rules": vp.config(), "drain_seconds": self.drain_seconds}, log=self.log,
                )  # fmt: skip
            elif _rules(running[1]) != vp.rules:
                reply = control.rpc(running[0].pid, {"op": "config", "rules": vp.config()})
                if not reply.get("ok"):
                    raise FaultError(f"volumePath {volume}: {reply.get('error')}")

    def _mounts(self, target: TargetRef) -> list[mounts.MountEntry]:
        try:
            return mounts.faultline_mounts(mounts.read_mounts(target.pid), target.id)
        except OSError:
            return []

    def _release(self, server: ServerProc, silent: list[ServerProc]) -> None:
        try:
            reply = control.rpc(server.pid, {"op": "release", "drain_seconds": self.drain_seconds})
        except control.ServerUnreachable:
            silent.append(server)  # it died or hangs: cleaned up the hard way
            return
        if not reply.get("ok"):
            raise FaultError(f"volumePath {server.volume}: release failed: {reply.get('error')}")

    def _clear_stale(self, target: TargetRef, keep: set[str], silent: list[ServerProc]) -> None:
        """Unmount layers nobody serves (their server crashed or hangs) and end hung servers."""
        for entry in reversed(self._mounts(target)):  # topmost first
            if entry.mount_point in keep:
                continue
            if any(s.volume == entry.mount_point for s in silent):
                control.abort_connection(entry.device)  # a hung server would block callers
            with contextlib.suppress(TargetGone):
                nsexec.call(target.pid, mounts.detach, entry.mount_point, namespaces=("mnt",))
        for server in silent:
            control.kill(server)

    def recover(self, target: TargetRef) -> None:
        if _mnt_ns(target.pid) is None:
            # Gone: its layers die with their namespace; make sure no server lingers.
            for server in control.find_servers(target.id):
                control.kill(server)
            return
        active, silent = self._active(target)
        for server, _ in active.values():
            self._release(server, silent)
        self._clear_stale(target, keep=set(), silent=silent)

    def verify(self, target: TargetRef, plan: IOPlan) -> Verification:
        problems: list[str] = []
        try:
            entries = mounts.faultline_mounts(mounts.read_mounts(target.pid), target.id)
        except OSError as e:
            raise TargetGone(f"pid {target.pid}: {e}") from e
        mounted = {e.mount_point for e in entries}
        active, silent = self._active(target)
        wanted = plan.by_volume()
        for volume, vp in wanted.items():
            if volume not in mounted:
                problems.append(f"volumePath {volume}: no Faultline FUSE mount in the target")
            if volume not in active:
                problems.append(f"volumePath {volume}: no live layer server")
            elif _rules(active[volume][1]) != vp.rules:
                problems.append(f"volumePath {volume}: layer runs a different config")
        for volume in (mounted | set(active)) - set(wanted):
            problems.append(f"volumePath {volume}: layer present but not desired")
        problems += [f"layer server {s.pid} ({s.volume}) does not answer" for s in silent]
        details = {
            v: {"server": s.pid, "open_handles": st.get("open_handles")}
            for v, (s, st) in active.items()
        }
        return Verification(not problems, "fuse", {"volumes": details}, problems)

    def census(self, pid: int) -> list[Owned]:
        """Faultline FUSE mounts in the mount namespace and the layer servers living in it."""
        ns = _mnt_ns(pid)
        try:
            entries = mounts.faultline_mounts(mounts.read_mounts(pid))
        except OSError:
            return []
        found = [Owned("fuse_mount", e.target_id or "", e.mount_point) for e in entries]
        found += [
            Owned("iofs_server", s.target_id, str(s.pid))
            for s in control.find_servers()
            if ns is not None and _mnt_ns(s.pid) == ns
        ]
        return found

    def remove_owned(self, pid: int, item: Owned) -> None:
        if item.kind == "fuse_mount":
            for entry in mounts.faultline_mounts(mounts.read_mounts(pid)):
                if entry.mount_point == item.key:
                    control.abort_connection(entry.device)  # its server may hang or be gone
                    with contextlib.suppress(TargetGone):
                        nsexec.call(pid, mounts.detach, entry.mount_point, namespaces=("mnt",))
        elif item.kind == "iofs_server":
            for server in control.find_servers(item.target_id):
                if server.pid == int(item.key):
                    control.kill(server)
        else:
            raise FaultError(f"io: no such owned kind {item.kind!r}")


def _rules(state: dict[str, Any]) -> tuple[IORule, ...]:
    return tuple(IORule.from_json(r) for r in state.get("rules", []))


def owned(pid: int) -> dict[str, Any]:
    """Faultline FUSE mounts in `pid`'s mount namespace and the layer servers inside it."""
    ns = _mnt_ns(pid)
    try:
        entries = mounts.faultline_mounts(mounts.read_mounts(pid))
    except OSError:
        entries = []
    servers = [
        s for s in control.find_servers()
        if s.target_pid == pid or (ns is not None and _mnt_ns(s.pid) == ns)
    ]  # fmt: skip
    return {
        "mounts": [
            {"mount_point": e.mount_point, "target_id": e.target_id, "device": e.device}
            for e in entries
        ],
        "servers": [{"pid": s.pid, "target_id": s.target_id, "volume": s.volume} for s in servers],
    }
