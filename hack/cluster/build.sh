#!/usr/bin/env bash
# Builds the Kubernetes components, kubectl, CoreDNS, the local-path provisioner, helm and
# kubeconform that Faultline's dev cluster and tests use, from the Go module proxy, into a cache
# outside the repo keyed by version.
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
COREDNS_VERSION=${COREDNS_VERSION:-v1.12.4}
LOCAL_PATH_VERSION=${LOCAL_PATH_VERSION:-v0.0.30}
CACHE=${FAULTLINE_CACHE:-/var/cache/faultline}
REPO=$(cd "$(dirname "$0")/../.." && pwd)

export GOMODCACHE=$CACHE/go/mod GOCACHE=$CACHE/go/build
export PATH=$PATH:/usr/local/go/bin  # where the machine image installs Go
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
  cp "$REPO/hack/cluster/multicall.go" "$src/main.go"
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

# helm and kubeconform are pinned in hack/tools.sh (shared with the chart tests); it builds them
# into the same cache layout under a lock, so concurrent callers never build twice.
build_helm() { "$REPO/hack/tools.sh" helm >/dev/null; }
build_kubeconform() { "$REPO/hack/tools.sh" kubeconform >/dev/null; }

# CoreDNS with a handful of plugins (hack/cluster/coredns/main.go), for Service names in pods.
build_coredns() {
  local out=$CACHE/bin/coredns-$COREDNS_VERSION
  [[ -x $out/coredns ]] && return 0
  local src=$CACHE/src/coredns-$COREDNS_VERSION
  log "building CoreDNS $COREDNS_VERSION (dev-cluster plugins only)"
  mkdir -p "$src" "$out"
  printf 'module faultline.dev/coredns-build\n\ngo 1.24.0\n\nrequire github.com/coredns/coredns %s\n' \
    "$COREDNS_VERSION" >"$src/go.mod"
  cp "$REPO/hack/cluster/coredns/main.go" "$src/main.go"
  (cd "$src" && go mod tidy && go build -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" -o "$out/coredns.tmp" .)
  mv "$out/coredns.tmp" "$out/coredns"
}

# rancher's local-path-provisioner, the dev cluster's default StorageClass (as kind ships). Its
# module has no replace directives, so a plain `go install module@version` builds it.
build_local_path() {
  local out=$CACHE/bin/local-path-provisioner-$LOCAL_PATH_VERSION
  [[ -x $out/local-path-provisioner ]] && return 0
  log "building local-path-provisioner $LOCAL_PATH_VERSION"
  local tmp
  tmp=$(mktemp -d "$CACHE/bin/.local-path-build.XXXXXX")
  GOBIN=$tmp go install -ldflags "-s -w -X main.VERSION=$LOCAL_PATH_VERSION" \
    "github.com/rancher/local-path-provisioner@$LOCAL_PATH_VERSION"
  mkdir -p "$out"
  mv "$tmp/local-path-provisioner" "$out/local-path-provisioner"
  rm -rf "$tmp"
}

# One build at a time: parallel test runs (every e2e session calls this) must not race.
exec 9>"$CACHE/bin/.build.lock"
flock 9

want=${1:-all}
case $want in
  all)
    # Separate statements, not `a && b`: errexit is ignored inside functions called from a list.
    build_kubernetes
    build_coredns
    build_local_path
    build_helm
    build_kubeconform
    ;;
  coredns) build_coredns ;;
  local-path) build_local_path ;;
  kubernetes) build_kubernetes ;;
  helm) build_helm ;;
  kubeconform) build_kubeconform ;;
  *) echo "usage: $0 [all|kubernetes|coredns|local-path|helm|kubeconform]" >&2 && exit 2 ;;
esac
echo "$CACHE/bin/k8s-$K8S_VERSION"
