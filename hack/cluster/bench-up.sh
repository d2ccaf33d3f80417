#!/usr/bin/env bash
# Prints how long the dev cluster takes to come up warm (binaries and images cached):
#   restart: cluster-down then cluster-up (every process started again, node registers Ready)
#   reuse:   cluster-up on a running cluster (the idempotent no-op path)
# Cold figures (first build on a new machine) are in docs/dev-cluster.md; reproduce them with
# FAULTLINE_CACHE=/tmp/empty-cache hack/cluster/up.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
t() { local s=$EPOCHREALTIME; "$@" >/dev/null; awk -v a="$s" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}'; }
"$here/up" >/dev/null
echo "warm restart (down+up): down $(t "$here/down")s, up $(t "$here/up")s"
echo "reuse (up while running): $(t "$here/up")s"
