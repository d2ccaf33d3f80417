"""Fixtures for network-fault tests: a fresh pair of netns "pods", always torn down."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

# netlab is shared with bench/network_*.py, so it is a plain module next to the tests.
sys.path.insert(0, os.path.dirname(__file__))
import netlab

from chaosd.faults.network import NetworkFamily, family


@pytest.fixture
def pods() -> Iterator[tuple[netlab.Pod, netlab.Pod]]:
    assert os.geteuid() == 0, "network-fault tests need root (netns, nftables, NFQUEUE)"
    with netlab.pod_pair() as pair:
        yield pair


@pytest.fixture
def net() -> NetworkFamily:
    return family
