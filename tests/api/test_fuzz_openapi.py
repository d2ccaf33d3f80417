"""Property-based fuzzing of every operation in the OpenAPI schema with schemathesis.

The real app runs under uvicorn (SQLite in a temporary directory, local auth, the admin token);
schemathesis generates valid and invalid requests from the schema and checks that no answer is
a 5xx and every answer conforms to the schema (status code, content type, body, headers).
Examples are bounded so the run takes a minute or two.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.openapi import from_url

from backend.api.app import create_app
from backend.settings import Settings
from tests.api.server import RunningServer, serve

pytestmark = pytest.mark.slow

EXAMPLES = 20
"""Per operation; about 40 operations."""
CLUSTER_WRITES = r"^/api/v1/(chaos(/.*)?|schedules(/.*)?|emergency-stop)$"
"""In local mode writes to the cluster answer 503 by design (there is no cluster); their 5xx is
the documented answer, so they are fuzzed for schema conformance but not for 5xx."""

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.negative_data_rejection,
]
"""Not `positive_data_acceptance`: a schema-valid body may still name a hypothesis or run that
does not exist, and the 422 naming that field is the right answer."""


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data = Path(tmp_path_factory.mktemp("fuzz"))
    app = create_app(
        Settings(data_dir=data, housekeeping_enabled=False, log_level="ERROR"),
        configure_logs=False,
        web_dist=None,
    )
    with serve(app) as running:
        yield running


@pytest.fixture(scope="module")
def api_schema(fuzz_server: RunningServer) -> schemathesis.BaseSchema:
    return from_url(f"{fuzz_server.base_url}/openapi.json")


def fuzz_operation(operation: Any, base_url: str, headers: dict[str, str]) -> None:
    checks = list(CHECKS)
    if operation.method.upper() in ("POST", "DELETE") and re.match(CLUSTER_WRITES, operation.path):
        checks.remove(schemathesis.checks.not_a_server_error)

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,  # no wall-clock limits: the machine is shared
        suppress_health_check=list(HealthCheck),
        derandomize=True,  # the same examples every run, so a failure reproduces
        database=None,
    )
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=base_url, headers=headers, checks=checks)

    check()


def test_no_server_errors_and_answers_match_the_schema(
    api_schema: Any, fuzz_server: RunningServer
) -> None:
    headers = {"Authorization": f"Bearer {fuzz_server.app.state.initial_admin_token}"}
    failures: dict[str, str] = {}
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        try:
            fuzz_operation(operation, fuzz_server.base_url, headers)
        except BaseExceptionGroup as e:  # collect every failing operation, not just the first
            failures[f"{operation.method.upper()} {operation.path}"] = str(e)[:2000]
    assert operations >= 30  # every route group was fuzzed
    assert not failures, "\n\n".join(f"{op}:\n{why}" for op, why in failures.items())
