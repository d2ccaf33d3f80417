"""End each experiment at its deadline, not at the next tick after it.

The periodic tick (FAULTLINE_TICK_SECONDS) would make a fault outlive its `duration` by up to a
whole interval. When a deadline falls before the next tick, a one-shot timer thread is armed for
it; re-arming replaces the previous timer, so each object has at most one. The callback runs in
a copy of the arming handler's context, so kopf's event posting works from it.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable

log = logging.getLogger("faultline.operator.deadlines")


class Deadlines:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._timers: dict[str, threading.Timer] = {}

    def arm(self, uid: str, delay: float, fire: Callable[[], None]) -> None:
        ctx = contextvars.copy_context()

        def run() -> None:
            with self._lock:
                if self._timers.get(uid) is not timer:
                    return  # replaced or cancelled meanwhile
                del self._timers[uid]
            try:
                ctx.run(fire)
            except Exception:  # the next tick retries; the deadline is only an early start
                log.exception("deadline reconcile of %s failed", uid)

        timer = threading.Timer(max(delay, 0.0), run)
        timer.daemon = True
        with self._lock:
            old = self._timers.pop(uid, None)
            self._timers[uid] = timer
        if old is not None:
            old.cancel()
        timer.start()

    def cancel(self, uid: str) -> None:
        with self._lock:
            old = self._timers.pop(uid, None)
        if old is not None:
            old.cancel()
