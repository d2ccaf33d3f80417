"""Helpers every command shares: consoles, failing with a tiered exit code, and the cluster."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

from backend.cli.kube import ClusterError, Kube
from backend.cli.outcome import ExitCode

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(code: ExitCode, *lines: str) -> NoReturn:
    for line in lines:
        err.print(line, markup=False)
    raise typer.Exit(int(code))


def connect() -> Kube:
    try:
        return Kube()
    except ClusterError as e:
        fail(ExitCode.ERROR, f"error: {e}")
