#!/usr/bin/env bash
# The test command: sets everything up on a fresh machine, runs the linters and every test suite.
# Extra arguments go to pytest (e.g. `make test ARGS="-k partition"`).
set -euo pipefail
cd "$(dirname "$0")/.."
hack/install-deps.sh
export PATH="$PWD/.venv/bin:$PATH"

echo "==> lint"
ruff check .
ruff format --check .
mypy
lint-imports

echo "==> pytest"
set +e
pytest "$@"
rc=$?
set -e
if [[ $rc -eq 5 ]]; then
  echo "FAIL: no tests were collected" >&2
  exit 1
fi
exit $rc
