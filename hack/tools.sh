#!/usr/bin/env bash
# Prints the path of a pinned helper binary (helm, kubeconform), building it from the Go module
# proxy first when the cache lacks it. Tests and CI call this instead of expecting the tools on
# PATH, so every machine validates the chart with the same versions.
#
# Usage: hack/tools.sh helm|kubeconform|kube-schemas
#
# kube-schemas prints a folder of JSON schemas for the built-in Kubernetes kinds (strict: unknown
# fields rejected) for `kubeconform -schema-location`, converted by hack/kubeconform_schemas.py from
# the OpenAPI documents inside the k8s.io/kubernetes Go module, so validation needs no network.
#
# Binaries live outside the repo in $FAULTLINE_CACHE/bin/<tool>-<version>/<tool>, the same layout
# hack/cluster/build.sh uses, so whichever script runs first builds the tool for both. A lock
# file keeps two concurrent callers (parallel test runs) from building the same tool twice.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.33.13}
HELM_VERSION=${HELM_VERSION:-v3.18.6}
KUBECONFORM_VERSION=${KUBECONFORM_VERSION:-v0.7.0}
CACHE=${FAULTLINE_CACHE:-/var/cache/faultline}

tool=${1:-}
go_env() {
  export GOMODCACHE=$CACHE/go/mod GOCACHE=$CACHE/go/build
  export CGO_ENABLED=0 GOTOOLCHAIN=${GOTOOLCHAIN:-local}
  export GOFLAGS="-p=${BUILD_JOBS:-2} -mod=mod -buildvcs=false -trimpath"
}

if [[ $tool == kube-schemas ]]; then
  out=$CACHE/kubeconform-schemas/$K8S_VERSION
  if [[ ! -f $out/.complete ]]; then
    mkdir -p "$CACHE/kubeconform-schemas"
    exec 9>"$CACHE/kubeconform-schemas/.$K8S_VERSION.lock"
    flock 9
    if [[ ! -f $out/.complete ]]; then
      echo "==> writing Kubernetes $K8S_VERSION schemas into $out" >&2
      go_env
      dir=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
      rm -rf "$out"
      "${PYTHON:-python3}" "$(dirname "$0")/kubeconform_schemas.py" \
        --openapi-dir "$dir/api/openapi-spec/v3" --out "$out" >&2
      touch "$out/.complete"
    fi
  fi
  echo "$out"
  exit 0
fi

case $tool in
  helm)
    version=$HELM_VERSION
    module=helm.sh/helm/v3/cmd/helm
    ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
    ;;
  kubeconform)
    version=$KUBECONFORM_VERSION
    module=github.com/yannh/kubeconform/cmd/kubeconform
    ldflags="-s -w"
    ;;
  *)
    echo "usage: $0 helm|kubeconform|kube-schemas" >&2
    exit 2
    ;;
esac

out=$CACHE/bin/$tool-$version
if [[ ! -x $out/$tool ]]; then
  mkdir -p "$CACHE/bin"
  exec 9>"$CACHE/bin/.$tool-$version.lock"
  flock 9
  # Another caller may have finished the build while we waited for the lock.
  if [[ ! -x $out/$tool ]]; then
    echo "==> building $tool $version into $out" >&2
    go_env
    tmp=$(mktemp -d "$CACHE/bin/.$tool-build.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    GOBIN=$tmp go install -ldflags "$ldflags" "$module@$version" >&2
    mkdir -p "$out"
    mv "$tmp/$tool" "$out/$tool"
  fi
fi
echo "$out/$tool"
