"""Fixtures for IO-fault tests: a target process in its own mount namespace, always torn down."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

# iolab is shared with bench/fuse_overhead.py, so it is a plain module next to the tests.
sys.path.insert(0, os.path.dirname(__file__))
import iolab

from chaosd.faults.io import IOFamily, family


@pytest.fixture
def io() -> IOFamily:
    return family


@pytest.fixture
def target() -> Iterator[iolab.Target]:
    files = {"a.txt": b"hello faultline\n", "data.bin": bytes(range(1, 256)) * 64}
    with iolab.target(files) as t:
        yield t


@pytest.fixture
def shell(target: iolab.Target) -> Iterator[iolab.Shell]:
    sh = target.shell()
    try:
        yield sh
    finally:
        sh.close()
