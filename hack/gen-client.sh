#!/usr/bin/env bash
# Regenerates the dashboard's TypeScript API client from the FastAPI app (no server needed):
#   web/openapi.json          the OpenAPI document, as the app produces it
#   web/src/client/schema.ts  types generated from it by openapi-typescript
# tests/api/test_client_drift.py fails when these files differ from what this script produces.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}

if [[ ! -x web/node_modules/.bin/openapi-typescript ]]; then
  echo "==> npm ci (web/)"
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi
"$PY" -m backend.api.openapi web/openapi.json
mkdir -p web/src/client
(cd web && node_modules/.bin/openapi-typescript openapi.json --output src/client/schema.ts)
echo "==> wrote web/openapi.json and web/src/client/schema.ts"
