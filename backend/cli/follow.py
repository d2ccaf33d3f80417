"""Following an applied object to its outcome, and stopping it safely.

Stopping is the part that must never be skipped: on Ctrl-C, SIGTERM (how CI systems cancel a
job) or a timeout the object is deleted and the CLI waits until it is gone, which happens only
after the operator's finalizer has recovered every fault. Further signals during that wait are
ignored, so an impatient second Ctrl-C cannot leave a fault behind.
"""

from __future__ import annotations

import signal
import time
from types import FrameType
from typing import TYPE_CHECKING, Any

from backend.cli.display import Progress
from backend.cli.kinds import resolve_kind
from backend.cli.outcome import ExitCode, Outcome, judge
from backend.clients.kube import KubeError, NotFound
from backend.spec.kinds import Kind

if TYPE_CHECKING:
    from backend.clients.kube.client import Kube

POLL_SECONDS = 1.0
RECOVERY_BOUND_SECONDS = 300.0
"""How long to wait for recovery to be confirmed before reporting it unconfirmed."""
TRANSIENT_ERRORS = 5
"""Consecutive failed polls tolerated (an API server restart) before giving up."""


class Cancelled(Exception):
    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)


def _raise_cancelled(signum: int, frame: FrameType | None) -> None:
    raise Cancelled(signum)


def follow(
    kube: Kube, kind: Kind, namespace: str, name: str, timeout: float, progress: Progress
) -> tuple[Outcome, dict[str, Any]]:
    """Poll until the object's outcome is decided, the timeout passes, or a signal arrives."""
    previous = {s: signal.signal(s, _raise_cancelled) for s in (signal.SIGINT, signal.SIGTERM)}
    start = time.monotonic()
    obj: dict[str, Any] = {"kind": kind.kind, "metadata": {"name": name, "namespace": namespace}}
    failures = 0
    try:
        while True:
            elapsed = time.monotonic() - start
            try:
                obj = kube.objects.get(kind, namespace, name)
                failures = 0
            except NotFound:
                return Outcome(ExitCode.ERROR, "the object was deleted by someone else"), obj
            except KubeError as e:
                failures += 1
                if failures >= TRANSIENT_ERRORS:
                    progress.close()
                    return _stopped(kube, kind, namespace, name, obj, progress, str(e)), obj
            progress.update(obj, elapsed)
            outcome = judge(obj)
            if outcome is not None:
                progress.close()
                return outcome, obj
            if elapsed > timeout:
                progress.close()
                status = obj.get("status") or {}
                why = (
                    f"timed out after {elapsed:.0f}s in phase {status.get('phase', 'Pending')}"
                    + (f": {status['message']}" if status.get("message") else "")
                )
                return _stopped(kube, kind, namespace, name, obj, progress, why), obj
            time.sleep(POLL_SECONDS)
    except Cancelled as c:
        progress.close()
        why = f"cancelled by {c}"
        return _stopped(kube, kind, namespace, name, obj, progress, why, ExitCode.ABORTED), obj
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stopped(
    kube: Kube,
    kind: Kind,
    namespace: str,
    name: str,
    obj: dict[str, Any],
    progress: Progress,
    why: str,
    code: ExitCode = ExitCode.ERROR,
) -> Outcome:
    """Stop the object; `code` when recovery was confirmed, else ERROR."""
    progress.note(f"{why}; stopping {kind.kind}/{name} and waiting for its faults to recover")
    ok, detail = stop(kube, kind, namespace, name, obj)
    progress.note(detail)
    if ok:
        return Outcome(code, f"{why}; faults recovered")
    return Outcome(ExitCode.ERROR, f"{why}; {detail}")


def _children(obj: dict[str, Any], namespace: str) -> list[tuple[Kind, str, str]]:
    """The chaos objects an Experiment created (deleted too, in case no owner reference)."""
    out = []
    for ref in (obj.get("status") or {}).get("faultObjects", []) or []:
        try:
            out.append((resolve_kind(ref["kind"]), ref.get("namespace") or namespace, ref["name"]))
        except (KeyError, ValueError):
            continue
    return out


def stop(
    kube: Kube, kind: Kind, namespace: str, name: str, obj: dict[str, Any] | None = None
) -> tuple[bool, str]:
    """Delete the object (and an Experiment's fault objects) and wait until all are gone.

    Gone means the operator's finalizer ran, i.e. every target's faults were withdrawn.
    Returns (confirmed, what happened)."""
    ignored = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        if obj is None or not obj.get("status"):
            try:
                obj = kube.objects.get(kind, namespace, name)
            except KubeError:
                obj = obj or {}
        objects = [(kind, namespace, name), *_children(obj, namespace)]
        pending = list(objects)
        deadline = time.monotonic() + RECOVERY_BOUND_SECONDS
        deleted: set[tuple[str, str, str]] = set()
        while pending:
            for k, ns, n in list(pending):
                try:
                    if (k.kind, ns, n) not in deleted:
                        kube.objects.delete(k, ns, n)
                        deleted.add((k.kind, ns, n))
                    kube.objects.get(k, ns, n)
                except NotFound:
                    pending.remove((k, ns, n))
                except KubeError:
                    pass  # retried until the bound below
            if not pending:
                break
            if time.monotonic() > deadline:
                left = ", ".join(f"{k.kind}/{n}" for k, _, n in pending)
                return False, f"recovery NOT confirmed after {RECOVERY_BOUND_SECONDS:.0f}s: {left}"
            time.sleep(POLL_SECONDS)
        names = ", ".join(f"{k.kind}/{n}" for k, _, n in objects)
        return True, f"stopped and recovered: {names}"
    finally:
        for sig, handler in ignored.items():
            signal.signal(sig, handler)
