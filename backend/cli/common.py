"""Helpers every command shares: consoles, failing with a tiered exit code, and the cluster."""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console

from backend.cli.errors import ClusterError
from backend.cli.outcome import ExitCode

if TYPE_CHECKING:
    from backend.cli.kube import Kube

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


def connect() -> Kube:
    from backend.cli.kube import Kube  # the Kubernetes client is slow to import; only here

    try:
        return Kube()
    except ClusterError as e:
        fail(ExitCode.ERROR, f"error: {e}")
