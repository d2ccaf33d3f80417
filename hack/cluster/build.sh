#!/usr/bin/env bash
# Builds the Kubernetes components, kubectl, helm and kubeconform that Faultline's dev cluster
# and tests use, from the Go module proxy, into a cache outside the repo keyed by version.
#
# Kubernetes refuses `go install k8s.io/kubernetes/cmd/...@v` (its go.mod replaces the staging
# modules with local folders), so we build inside a tiny wrapper module that requires
# k8s.io/kubernetes and replaces every staging module with its published v0.<minor>.<patch> tag.
# All six programs are linked into ONE multi-call binary (dispatch on argv[0]): linking the
# Kubernetes dependency graph is the slow part, so doing it once saves most of the build.
#
# A warm machine skips everything: each tool lives in $FAULTLINE_CACHE/bin/<tool>-<version>/ and
# is only built when its stamp file is missing. Prints the bin folder of the Kubernetes build.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.33.13}
HELM_VERSION=${HELM_VERSION:-v3.18.6}
KUBECONFORM_VERSION=${KUBECONFORM_VERSION:-v0.7.0}
CACHE=${FAULTLINE_CACHE:-/var/cache/faultline}

export GOMODCACHE=$CACHE/go/mod GOCACHE=$CACHE/go/build
export CGO_ENABLED=0 GOTOOLCHAIN=${GOTOOLCHAIN:-local}
# Two cores are shared with other test suites: keep the compiler from taking both and more.
export GOFLAGS="-p=${BUILD_JOBS:-2} -mod=mod -buildvcs=false -trimpath"
export GOMAXPROCS=${GOMAXPROCS:-2}
mkdir -p "$GOMODCACHE" "$GOCACHE" "$CACHE/bin" "$CACHE/src"

log() { echo "==> $*" >&2; }

build_kubernetes() {
  local out=$CACHE/bin/k8s-$K8S_VERSION
  [[ -x $out/faultline-k8s && -f $out/.complete ]] && return 0
  local src=$CACHE/src/k8s-$K8S_VERSION
  mkdir -p "$src" "$out"
  log "building Kubernetes $K8S_VERSION (cold: tens of minutes on 2 cores)"
  go mod download -x "k8s.io/kubernetes@$K8S_VERSION" 2>/dev/null
  local kk
  kk=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
  local staging_version=v0.${K8S_VERSION#v1.}
  {
    echo "module faultline.dev/k8s-build"
    echo
    echo "go 1.24.0"
    echo
    echo "godebug default=go1.24"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    # Every staging module that k/k's go.mod pins at v0.0.0 gets its published tag.
    awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" {print $1}' "$kk/go.mod" | sort -u |
      while read -r mod; do echo "replace $mod => $mod $staging_version"; done
  } >"$src/go.mod"
  cp "$(dirname "$0")/multicall.go" "$src/main.go"
  (cd "$src" && go mod tidy)

  local date major minor
  date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  major=$(echo "$K8S_VERSION" | sed 's/^v\([0-9]*\)\..*/\1/')
  minor=$(echo "$K8S_VERSION" | sed 's/^v[0-9]*\.\([0-9]*\)\..*/\1/')
  local ld="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ld+=" -X $pkg.gitCommit=faultline-build-$K8S_VERSION -X $pkg.gitTreeState=clean"
    ld+=" -X $pkg.buildDate=$date"
  done
  (cd "$src" && go build -ldflags "$ld" -o "$out/faultline-k8s.tmp" .)
  mv "$out/faultline-k8s.tmp" "$out/faultline-k8s"
  for name in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do
    ln -sf faultline-k8s "$out/$name"
  done
  touch "$out/.complete"
}

build_helm() {
  local out=$CACHE/bin/helm-$HELM_VERSION
  [[ -x $out/helm ]] && return 0
  log "building helm $HELM_VERSION"
  mkdir -p "$out"
  GOBIN=$out.tmp go install -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  mv "$out.tmp/helm" "$out/helm" && rmdir "$out.tmp"
}

build_kubeconform() {
  local out=$CACHE/bin/kubeconform-$KUBECONFORM_VERSION
  [[ -x $out/kubeconform ]] && return 0
  log "building kubeconform $KUBECONFORM_VERSION"
  mkdir -p "$out"
  GOBIN=$out.tmp go install -ldflags "-s -w" \
    "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
  mv "$out.tmp/kubeconform" "$out/kubeconform" && rmdir "$out.tmp"
}

want=${1:-all}
case $want in
  all) build_kubernetes && build_helm && build_kubeconform ;;
  kubernetes) build_kubernetes ;;
  helm) build_helm ;;
  kubeconform) build_kubeconform ;;
  *) echo "usage: $0 [all|kubernetes|helm|kubeconform]" >&2 && exit 2 ;;
esac
echo "$CACHE/bin/k8s-$K8S_VERSION"
