#!/usr/bin/env bash
# The main job: sets everything up and runs a real chaos experiment with its hypothesis, then
# leaves the dashboard running with the result.
set -euo pipefail
cd "$(dirname "$0")/.."
hack/install-deps.sh
if [[ ! -f web/dist/index.html ]]; then
  echo "==> building the dashboard (npm)"
  (cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
fi
exec .venv/bin/python hack/demo/standalone.py "$@"
