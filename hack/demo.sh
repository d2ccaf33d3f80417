#!/usr/bin/env bash
# The main job (`make demo`): sets everything up and runs the canonical chaos experiment with its
# hypothesis on Kubernetes, then leaves the dashboard running with the result (docs/demo.md).
#   hack/demo.sh [--scenario pod-kill|partition-minority|partition-majority] [--down]
#   hack/demo.sh --standalone     the same idea without Kubernetes, in a network namespace
set -euo pipefail
cd "$(dirname "$0")/.."
hack/install-deps.sh
# The dashboard ships in Faultline's image from web/dist: build it when it is missing or older
# than any of its sources, so the image never carries a stale dashboard.
web_sources=(web/src web/index.html web/package.json web/package-lock.json web/vite.config.ts)
if [[ ! -f web/dist/index.html ]] ||
  [[ -n $(find "${web_sources[@]}" -newer web/dist/index.html -print -quit) ]]; then
  echo "==> building the dashboard (npm)"
  (cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
fi
if [[ ${1:-} == --standalone ]]; then
  shift
  exec .venv/bin/python hack/demo/standalone.py "$@"
fi
exec .venv/bin/python hack/demo/kube_demo.py "$@"
