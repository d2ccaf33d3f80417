"""Helpers every command shares: consoles, failing with a tiered exit code, and the cluster.

`cluster_failed` is the one place a failed Kubernetes call becomes an exit code: the API server
found the manifest invalid (4, with its per-field causes), or anything else the cluster did or
could not do (3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console

from backend.cli.outcome import ExitCode
from backend.clients import kube

if TYPE_CHECKING:
    from backend.clients.kube.client import Kube

PIPE_WIDTH = 200
"""Tables written to a pipe or CI log are not squeezed to 80 columns (nothing wraps there)."""


def _console(stderr: bool = False) -> Console:
    console = Console(stderr=stderr, highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console.width = PIPE_WIDTH
    return console


out = _console()
err = _console(stderr=True)


def fail(code: ExitCode, *lines: str) -> NoReturn:
    for line in lines:
        err.print(line, markup=False)
    raise typer.Exit(int(code))


def exit_code(e: kube.KubeError) -> ExitCode:
    return ExitCode.INVALID if isinstance(e, kube.Invalid) else ExitCode.ERROR


def cluster_failed(e: kube.KubeError, context: str = "error") -> NoReturn:
    """Say what the cluster refused or why it could not be asked, after `context`, and exit."""
    if isinstance(e, kube.Invalid):
        fail(exit_code(e), f"{context}: rejected: {e.explanation}", *e.causes)
    hint = ""
    if isinstance(e, kube.AlreadyExists):
        hint = "; delete it first (faultline abort KIND NAME) or use another name"
    fail(exit_code(e), f"{context}: {e}{hint}")


def connect() -> Kube:
    """The cluster of the kubeconfig ($KUBECONFIG, else in-cluster credentials), one attempt
    per call: a dead cluster should fail a run, not hang it."""
    from backend.clients.kube.client import connect  # the library is slow to import; only here

    try:
        return connect(prefer="kubeconfig", retries=1)
    except kube.KubeError as e:
        cluster_failed(e)
