"""`faultline stop`: the emergency stop from the command line, and its banner in `faultline get`.

The CLI only writes the flag (backend/spec/emergency.py) with who, when and why; the operator
does the stopping. So `stop --all` waits for the operator's word that every fault is gone (the
EmergencyStopEngaged Event it posts on the flag once the withdrawal is done) and prints how long
that took: a stop that nobody carried out must not look like one that was.
"""

from __future__ import annotations

import os
import time
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.text import Text

from backend.cli.common import cluster_failed, connect, err, fail, out
from backend.cli.outcome import ExitCode
from backend.clients.kube import KubeError
from backend.spec.emergency import KILLSWITCH_NAME, EmergencyStop, engage_data, lift_data
from chaosd.duration import DurationError, parse_duration

if TYPE_CHECKING:
    from backend.clients.kube.client import Kube

NAMESPACE_ENV = "FAULTLINE_NAMESPACE"
DEFAULT_NAMESPACE = "faultline"
ENGAGED_EVENT = "EmergencyStopEngaged"
LIFTED_EVENT = "EmergencyStopLifted"
POLL_SECONDS = 0.1
FIELD_MANAGER = "faultline-cli"


def release_namespace() -> str:
    """Where the flag lives: the namespace Faultline is installed in."""
    return os.environ.get(NAMESPACE_ENV) or DEFAULT_NAMESPACE


def _uid(event: dict[str, Any]) -> str:
    return str((event.get("metadata") or {}).get("uid") or "")


def operator_event(
    events: Iterable[dict[str, Any]], reason: str, seen: Collection[str]
) -> dict[str, Any] | None:
    """The operator's Event `reason` (EmergencyStopEngaged or EmergencyStopLifted) that was not
    there before the flag was written (`seen`: the uids listed then), or None while there is none.
    New by uid, not by time: the CLI's clock and the operator's need not agree."""
    for e in events:
        if e.get("reason") == reason and _uid(e) and _uid(e) not in seen:
            return e
    return None


class _Confirmation:
    """The operator's Events on the flag as they were before the write, to wait for a new one."""

    def __init__(self, kube: Kube, namespace: str, reason: str) -> None:
        self.kube, self.namespace, self.reason = kube, namespace, reason
        self.error: KubeError | None = None
        try:
            self.seen = {_uid(e) for e in kube.core.events_about(namespace, KILLSWITCH_NAME)}
        except KubeError as e:  # no right to list Events: the flag is still written first
            self.seen, self.error = set(), e

    def _unconfirmed(self, e: KubeError) -> NoReturn:
        cluster_failed(e, "error: the flag is written, but its confirmation is unreadable")

    def wait(self, seconds: float) -> tuple[dict[str, Any], float]:
        """(the new Event, seconds waited), or exit 3 after `seconds`."""
        if self.error is not None:
            self._unconfirmed(self.error)
        started = time.monotonic()
        while True:
            try:
                found = self.kube.core.events_about(self.namespace, KILLSWITCH_NAME)
            except KubeError as e:
                self._unconfirmed(e)
            event = operator_event(found, self.reason, self.seen)
            if event is not None:
                return event, time.monotonic() - started
            if time.monotonic() - started > seconds:
                fail(
                    ExitCode.ERROR,
                    f"error: the flag is written, but the operator did not confirm within "
                    f"{seconds:.0f}s: is the operator running (with its namespace "
                    f"{self.namespace})? Each fault's lease still ends it on its node.",
                )
            time.sleep(POLL_SECONDS)


def banner(state: EmergencyStop) -> str:
    """The line `faultline get` shows above its table while the stop is engaged."""
    said = state.summary()
    return (
        f"EMERGENCY STOP ENGAGED{f' ({said})' if said else ''}: no fault is injected and new "
        "chaos objects, runs and schedule firings are refused; lift it with `faultline stop --lift`"
    )


def current(kube: Kube, namespace: str) -> EmergencyStop | None:
    """The flag's state, or None when it cannot be read (e.g. no right to get it)."""
    try:
        return EmergencyStop.from_data(kube.core.config_map(namespace, KILLSWITCH_NAME))
    except KubeError:
        return None


def _engage(kube: Kube, namespace: str, reason: str, seconds: float) -> None:
    before = EmergencyStop.from_data(kube.core.config_map(namespace, KILLSWITCH_NAME))
    if before.engaged:
        out.print(f"the emergency stop is already engaged ({before.summary()})", markup=False)
        return
    confirmation = _Confirmation(kube, namespace, ENGAGED_EVENT)
    data = engage_data(kube.reviews.whoami(), reason, datetime.now(UTC))
    kube.core.merge_config_map(namespace, KILLSWITCH_NAME, data, field_manager=FIELD_MANAGER)
    out.print(f"emergency stop engaged in {namespace}: waiting for the operator", markup=False)
    event, elapsed = confirmation.wait(seconds)
    out.print(f"every fault withdrawn: {elapsed:.2f}s after the stop", markup=False)
    out.print(f"operator: {event.get('message', '')}", markup=False)


def _lift(kube: Kube, namespace: str, seconds: float) -> None:
    """Returns once the operator has seen the lift, so an object created next is not refused."""
    before = EmergencyStop.from_data(kube.core.config_map(namespace, KILLSWITCH_NAME))
    if not before.engaged:
        out.print("the emergency stop is not engaged", markup=False)
        return
    confirmation = _Confirmation(kube, namespace, LIFTED_EVENT)
    data = lift_data(kube.reviews.whoami(), datetime.now(UTC))
    kube.core.merge_config_map(namespace, KILLSWITCH_NAME, data, field_manager=FIELD_MANAGER)
    confirmation.wait(seconds)
    out.print(
        "emergency stop lifted: new chaos objects, runs and schedule firings may start again; "
        "objects it ended stay ended (create them again to inject)",
        markup=False,
    )


def stop(
    all_: Annotated[
        bool, typer.Option("--all", help="Withdraw every fault in the cluster and refuse new ones.")
    ] = False,
    lift: Annotated[bool, typer.Option("--lift", help="Lift the emergency stop.")] = False,
    reason: Annotated[str, typer.Option(help="Why (shown in banners and Events).")] = "",
    namespace: Annotated[
        str | None,
        typer.Option(
            "--release-namespace",
            help=f"Faultline's namespace (default: ${NAMESPACE_ENV} or {DEFAULT_NAMESPACE}).",
        ),
    ] = None,
    timeout: Annotated[
        str, typer.Option(help="How long to wait for the operator's confirmation.")
    ] = "30s",
) -> None:
    """Emergency stop: `--all` withdraws every fault in the cluster and refuses new chaos
    objects, runs and schedule firings until `--lift`. Both wait for the operator's confirmation
    (exit 3 without it)."""
    if all_ == lift:
        fail(ExitCode.INVALID, "error: say either --all (engage the stop) or --lift")
    if lift and reason:
        fail(ExitCode.INVALID, "error: --reason goes with --all")
    try:
        seconds = parse_duration(timeout)
    except DurationError as e:
        fail(ExitCode.INVALID, f"--timeout: {e}")
    ns = namespace or release_namespace()
    kube = connect()
    try:
        if lift:
            _lift(kube, ns, seconds)
        else:
            _engage(kube, ns, reason, seconds)
    except KubeError as e:
        cluster_failed(e)


def print_banner(kube: Kube, *, to_stderr: bool = False) -> None:
    """For `faultline get`: say so, in red, when the stop is engaged."""
    state = current(kube, release_namespace())
    if state is not None and state.engaged:
        (err if to_stderr else out).print(Text(banner(state), style="bold red"))


def register(app: typer.Typer) -> None:
    app.command(name="stop")(stop)
