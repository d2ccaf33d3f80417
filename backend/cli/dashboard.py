"""`faultline dashboard`: reach the in-cluster dashboard, and manage local-mode tokens.

The port-forward is kubectl's (the one thing kubectl already does well); the token commands
work on the dashboard database directly so they also work while the dashboard is stopped.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from types import FrameType
from typing import Annotated

import typer

from backend.cli.common import cluster_failed, connect, fail, out
from backend.cli.outcome import ExitCode
from backend.clients.kube import KubeError

app = typer.Typer(help="Open the dashboard; manage local-mode tokens.", no_args_is_help=False)
COMPONENT_LABEL = "app.kubernetes.io/component=dashboard"


@app.callback(invoke_without_command=True)
def forward(
    ctx: typer.Context,
    namespace: Annotated[str, typer.Option("--namespace", "-n")] = "faultline",
    port: Annotated[int, typer.Option(help="Local port.")] = 8080,
) -> None:
    """Port-forward to the dashboard Service and print its URL (until Ctrl-C)."""
    if ctx.invoked_subcommand is not None:
        return
    kube = connect()
    try:
        services = kube.core.list_services(namespace, label_selector=COMPONENT_LABEL)
    except KubeError as e:
        cluster_failed(e, f"error: cannot list Services in {namespace}")
    if not services:
        fail(ExitCode.ERROR, f"error: no dashboard Service ({COMPONENT_LABEL}) in {namespace}")
    svc = services[0]
    ports = (svc.get("spec") or {}).get("ports") or []
    if not ports:
        fail(ExitCode.ERROR, f"error: the dashboard Service in {namespace} has no port")
    kubectl = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if not kubectl:
        fail(ExitCode.ERROR, "error: kubectl not found on PATH (or set KUBECTL)")
    remote = ports[0]["port"]
    out.print(f"dashboard: http://127.0.0.1:{port}/  (Ctrl-C to stop)")
    service = svc["metadata"]["name"]
    cmd = [kubectl, "port-forward", "-n", namespace, f"svc/{service}", f"{port}:{remote}"]
    raise typer.Exit(_forward(cmd))


def _forward(cmd: list[str]) -> int:
    """Run kubectl port-forward until it ends or we are told to stop; never leave it behind."""
    child = subprocess.Popen(cmd)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return child.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if child.poll() is None:
            child.terminate()
            child.wait()


@app.command("reset-token")
def reset_token() -> None:
    """Replace the local admin token (the old one stops working) and print the new one."""
    from backend.api.admin import reset_admin_token  # the DB stack only for these commands
    from backend.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
    except SettingsError as e:
        fail(ExitCode.INVALID, f"error: {e}")
    print(reset_admin_token(settings))


@app.command("create-token")
def create_token(
    name: Annotated[str, typer.Argument(help="A name to recognise the token by.")],
    role: Annotated[str, typer.Option(help="viewer (read-only) or admin.")] = "viewer",
) -> None:
    """Create a named token and print it (it is shown only once)."""
    from backend.api.admin import create_token as create
    from backend.settings import Settings, SettingsError

    if role not in ("viewer", "admin"):
        fail(ExitCode.INVALID, f"--role: must be viewer or admin, got {role!r}")
    try:
        settings = Settings.from_env()
    except SettingsError as e:
        fail(ExitCode.INVALID, f"error: {e}")
    print(create(settings, name, role))
