"""Fixtures for chaosd end-to-end tests: pods in throwaway netns and a chaosd daemon on a
private state directory; both are always torn down, and anything chaosd still journals is
recovered on the way out."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from engine_lab import CHAOSD, Daemon, Pod, pod_pairs


@pytest.fixture
def pods() -> Iterator[list[Pod]]:
    assert os.geteuid() == 0, "chaosd end-to-end tests need root (netns, nftables)"
    with pod_pairs(1) as pods:
        yield pods


@pytest.fixture
def daemon(tmp_path: Path, pods: list[Pod]) -> Iterator[Daemon]:
    d = Daemon(tmp_path / "state", tmp_path / "chaosd.log")
    try:
        yield d
    finally:
        d.kill()
        # recover what the journal still names before the pods (and so the netns) go away
        subprocess.run(
            [*CHAOSD, "recover", "--all", "--state-dir", str(d.state_dir)],
            capture_output=True, check=False,
        )  # fmt: skip
