"""Fixtures shared by the dashboard's tests: the npm packages and a production build."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"
BIN = WEB / "node_modules" / ".bin"


def run_web_tool(args: list[str], **env: str) -> str:
    """Runs a web tool in web/; on failure the assertion message carries its whole output."""
    done = subprocess.run(
        args,
        cwd=WEB,
        env={**os.environ, "CI": "1", "NO_COLOR": "1", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}"
    return done.stdout


@pytest.fixture(scope="session")
def node_modules() -> Path:
    npm = shutil.which("npm")
    assert npm, "npm is missing: install Node.js 20 with npm (see docs/dashboard.md)"
    run_web_tool([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"])
    return BIN


@pytest.fixture
def built(node_modules: Path, tmp_path: Path) -> Path:
    """A production build in a temporary folder (web/dist is left alone)."""
    out = tmp_path / "dist"
    run_web_tool([str(node_modules / "vite"), "build", "--outDir", str(out), "--emptyOutDir"])
    assert (out / "index.html").is_file()
    return out
