"""Safety rails a cluster admin controls: namespace opt-in and the cluster-wide kill switch.

Opt-in (FAULTLINE_REQUIRE_NAMESPACE_OPT_IN=true): only namespaces annotated
`chaos.faultline.dev/inject: enabled` may be targeted, so a selector typo cannot reach a
namespace nobody agreed to break.

Kill switch: a ConfigMap `faultline-killswitch` in the operator's namespace with
`data.enabled: "true"` stops every fault at once and keeps new ones from starting. It is read by
a watcher thread (one small GET per second, so RBAC can name the one ConfigMap) and every
reconcile consults the cached answer; when it flips on, the watcher withdraws every fault the
operator holds without waiting for each object's next tick.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from backend.spec.kinds import INJECT_ANNOTATION

log = logging.getLogger("faultline.operator.safety")
KILLSWITCH_NAME = "faultline-killswitch"


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
        interval: float = 1.0,
    ) -> None:
        self._read = read
        self._on_engage = on_engage
        self._interval = interval
        self._engaged = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def engaged(self) -> bool:
        return self._engaged

    def refresh(self) -> bool:
        """Read the ConfigMap once; on an API error keep the last known state."""
        try:
            data = self._read()
        except Exception as e:  # the API being briefly unreachable must not flip the switch
            log.warning("could not read the kill switch: %s", e)
            return self._engaged
        engaged = bool(data) and (data or {}).get("enabled", "").lower() == "true"
        if engaged and not self._engaged:
            log.warning("kill switch engaged: withdrawing every fault")
            self._engaged = True
            self._on_engage()
        elif not engaged and self._engaged:
            log.warning("kill switch released: faults may be injected again")
        self._engaged = engaged
        return engaged

    def start(self) -> None:
        if self._thread is None:
            self.refresh()
            self._thread = threading.Thread(target=self._loop, name="killswitch", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self.refresh()
