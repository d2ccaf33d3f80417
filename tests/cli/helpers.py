"""Running the installed `faultline` entry point as a subprocess, the way users and CI do, and
the manifests the CLI tests hand it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
FAULTLINE = BIN / "faultline"
CORPUS = Path(__file__).resolve().parent / "bad-manifests"


def cli_env(kubeconfig: Path | str | None = None, **extra: str) -> dict[str, str]:
    env = {**os.environ, "CI": "true", **extra}
    if kubeconfig is not None:
        env["KUBECONFIG"] = str(kubeconfig)
    return env


def cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FAULTLINE), *args],
        capture_output=True,
        text=True,
        env=env or cli_env(),
        cwd=cwd,
        check=False,
    )


def dead_kubeconfig(folder: Path) -> Path:
    """A kubeconfig whose API server cannot be reached (nothing listens on port 1)."""
    path = folder / "dead.kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        'clusters: [{name: dead, cluster: {server: "https://127.0.0.1:1"}}]\n'
        "contexts: [{name: dead, context: {cluster: dead, user: nobody}}]\n"
        "current-context: dead\n"
        "users: [{name: nobody, user: {token: nothing}}]\n"
    )
    return path


def partition(name: str, duration: str | None = None, app: str = "web") -> str:
    """A NetworkChaos manifest cutting pods labelled `app` off from the `client` pods."""
    lines = [
        "apiVersion: chaos.faultline.dev/v1alpha1",
        "kind: NetworkChaos",
        "metadata:",
        f"  name: {name}",
        "spec:",
        "  action: partition",
        "  mode: all",
        f"  selector: {{labelSelectors: {{app: {app}}}}}",
        "  direction: both",
        "  target: {mode: all, selector: {labelSelectors: {app: client}}}",
    ]
    if duration:
        lines.append(f"  duration: {duration}")
    return "\n".join(lines) + "\n"
