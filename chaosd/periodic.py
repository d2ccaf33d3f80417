"""One background loop: call a function every `interval` seconds until closed, logging (never
dying on) whatever it raises. chaosd's lease reaper and leak scan use it, and so does the
operator's leak watch."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable


class Periodic:
    def __init__(
        self, name: str, interval: float, fn: Callable[[], object], log: logging.Logger
    ) -> None:
        self.name, self.interval, self._fn, self._log = name, interval, fn, log
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the loop (none when the interval is 0 or less: the caller turned it off)."""
        if self.interval <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._fn()
            except Exception:  # the next pass may succeed: the loop must outlive a bad one
                self._log.exception("%s: pass failed", self.name)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
