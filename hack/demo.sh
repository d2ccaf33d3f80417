#!/usr/bin/env bash
# The main job: sets everything up and runs a real chaos experiment with its hypothesis.
set -euo pipefail
cd "$(dirname "$0")/.."
hack/install-deps.sh
exec .venv/bin/python hack/demo/standalone.py "$@"
