"""Fixtures for engine logic tests: a throwaway state directory, live target processes and
recording families."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from core_fakes import RecordingFamily

from chaosd.engine import Engine, Registry
from chaosd.journal import Journal


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    j = Journal(tmp_path / "state")
    yield j
    j.close()


@pytest.fixture
def families(journal: Journal) -> dict[str, RecordingFamily]:
    return {"network": RecordingFamily("network", journal), "io": RecordingFamily("io", journal)}


@pytest.fixture
def engine(journal: Journal, families: dict[str, RecordingFamily]) -> Iterator[Engine]:
    e = Engine(journal, Registry(families))  # type: ignore[arg-type]
    yield e
    e.close()


@pytest.fixture
def proc() -> Iterator[subprocess.Popen[bytes]]:
    p = subprocess.Popen(["sleep", "300"])
    yield p
    p.kill()
    p.wait()
