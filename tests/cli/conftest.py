"""The CLI tests use the e2e suite's cluster fixtures (a conftest only reaches its own folder)."""

from tests.e2e.conftest import (  # noqa: F401  (fixtures and the build hook, re-exported)
    cluster,
    namespace,
    pytest_collection_finish,
)
