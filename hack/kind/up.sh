#!/usr/bin/env bash
# For users with Docker and kind: create the `faultline` kind cluster, build the local images
# with Docker and load them into the node, then print the KUBECONFIG the e2e tests will use
# instead of the from-source dev cluster (see docs/dev-cluster.md).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
kubeconfig=${KUBECONFIG_OUT:-$HOME/.kube/faultline-kind}

for tool in docker kind; do
  command -v "$tool" >/dev/null || { echo "hack/kind/up.sh needs $tool on PATH" >&2; exit 1; }
done
if ! kind get clusters | grep -qx faultline; then
  kind create cluster --config "$repo/hack/kind/kind-config.yaml" --kubeconfig "$kubeconfig"
fi
for image in pause:3.10-catatonit demo-http:0.1.0; do
  name=${image%%:*}
  docker build -f "$repo/images/$name.Dockerfile" -t "faultline.local/$image" "$repo"
  kind load docker-image --name faultline "faultline.local/$image"
done
kind get kubeconfig --name faultline >"$kubeconfig"
echo "export KUBECONFIG=$kubeconfig"
