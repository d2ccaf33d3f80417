"""Safety rails a cluster admin controls: namespace opt-in and the cluster-wide kill switch.

Opt-in (FAULTLINE_REQUIRE_NAMESPACE_OPT_IN=true): only namespaces annotated
`chaos.faultline.dev/inject: enabled` may be targeted, so a selector typo cannot reach a
namespace nobody agreed to break.

Kill switch (the emergency stop, backend/spec/emergency.py): a ConfigMap `faultline-killswitch`
in the operator's namespace with `data.enabled: "true"` stops every fault at once and keeps new
ones from starting. It is read by a watcher thread (one small GET per second, so RBAC can name
the one ConfigMap) and every reconcile consults the cached answer; when it flips on, the watcher
withdraws every fault the operator holds without waiting for each object's next tick.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from typing import Any

from backend.spec.emergency import KILLSWITCH_NAME, EmergencyStop, stopped_message
from backend.spec.kinds import INJECT_ANNOTATION

log = logging.getLogger("faultline.operator.safety")
__all__ = ["KILLSWITCH_NAME", "KillSwitch", "newly_stopped", "opt_in_message", "refused_namespaces"]


def refused_namespaces(
    namespaces: list[str], annotations_of: Callable[[str], dict[str, str]]
) -> list[str]:
    """The namespaces among `namespaces` that have not opted in."""
    return [ns for ns in namespaces if annotations_of(ns).get(INJECT_ANNOTATION) != "enabled"]


def opt_in_message(refused: list[str]) -> str:
    return (
        f"namespaces {', '.join(refused)} are not opted in to chaos: annotate them with "
        f"{INJECT_ANNOTATION}=enabled"
    )


class KillSwitch:
    """The cached state of the kill-switch ConfigMap, refreshed by a daemon thread."""

    def __init__(
        self,
        read: Callable[[], dict[str, str] | None],
        on_engage: Callable[[], None],
        *,
        on_lift: Callable[[], None] = lambda: None,
        interval: float = 1.0,
    ) -> None:
        self._read = read
        self._on_engage = on_engage
        self._on_lift = on_lift
        self._interval = interval
        self._engaged = False
        self._state = EmergencyStop()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def engaged(self) -> bool:
        return self._engaged

    @property
    def state(self) -> EmergencyStop:
        """The last state read, with who engaged it, when and why (for messages and Events)."""
        return self._state

    def refresh(self) -> bool:
        """Read the ConfigMap once; on an API error keep the last known state."""
        try:
            data = self._read()
        except Exception as e:  # the API being briefly unreachable must not flip the switch
            log.warning("could not read the kill switch: %s", e)
            return self._engaged
        state = EmergencyStop.from_data(data)
        engaged = state.engaged
        self._state = state
        if engaged and not self._engaged:
            log.warning("emergency stop engaged (%s): withdrawing every fault", state.summary())
            self._engaged = True
            self._on_engage()
        elif not engaged and self._engaged:
            log.warning("emergency stop lifted: new faults may be injected again")
            self._engaged = False
            self._on_lift()
        self._engaged = engaged
        return engaged

    def start(self) -> None:
        if self._thread is None:
            self.refresh()
            # In a copy of the caller's context (kopf's startup handler): the reconciles the
            # engage callback starts post Events through kopf, which needs that context.
            run = contextvars.copy_context().run
            self._thread = threading.Thread(
                target=run, args=(self._loop,), name="killswitch", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self.refresh()


def newly_stopped(old: dict[str, Any], new: dict[str, Any]) -> str:
    """The message when this reconcile ended or refused the object because of the emergency stop
    (its EmergencyStop condition turned True), so the Event is told once, not on every tick."""
    before = stopped_message((old or {}).get("conditions") or [])
    after = stopped_message((new or {}).get("conditions") or [])
    return after if after is not None and before is None else ""
