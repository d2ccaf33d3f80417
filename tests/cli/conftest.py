"""The CLI tests' own environment; the cluster and operator fixtures come from tests/support."""

from collections.abc import Iterator

import pytest

from tests.support.net import free_port


@pytest.fixture(scope="module", autouse=True)
def _own_operator_metrics_port() -> Iterator[None]:
    # The operator fixture passes our environment on; without this its metrics server takes a
    # fixed port that another operator on this host (a parallel test run) may already hold.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FAULTLINE_METRICS_LISTEN", f"127.0.0.1:{free_port()}")
        yield
