"""Every example Experiment in examples/ is valid, so users can start from a working manifest."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from backend.spec import validate_manifest

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "examples").glob("experiment-*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_is_valid(path: Path) -> None:
    doc = yaml.safe_load(path.read_text())
    assert doc["kind"] == "Experiment"
    assert validate_manifest(doc) == []


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 3
