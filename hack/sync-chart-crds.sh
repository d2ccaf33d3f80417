#!/usr/bin/env bash
# Copies the generated CRDs (crds/*.yaml, the one source) into the Helm chart's crds/ folder, so
# `helm install` creates exactly the CRDs the operator was built against. Files in the chart that
# no longer exist in crds/ are removed. tests/unit/helm fails when the two folders drift; run this
# after `make generate`.
set -euo pipefail
cd "$(dirname "$0")/.."

src=crds
dst=helm/faultline/crds
mkdir -p "$dst"
shopt -s nullglob
for f in "$dst"/*.yaml; do
  [[ -f $src/$(basename "$f") ]] || rm -v -- "$f"
done
for f in "$src"/*.yaml; do
  cmp -s "$f" "$dst/$(basename "$f")" || cp -v -- "$f" "$dst/"
done
