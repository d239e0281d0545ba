#!/usr/bin/env bash
# Build the binaries a tsmesh test environment needs — kube-apiserver, kube-controller-manager,
# etcd and helm — from their Go modules at pinned versions, with the machine's Go toolchain, into
# a cache outside the clone keyed by version:
#
#   $CACHE/kube/<k8s-version>/bin/{kube-apiserver,kube-controller-manager}
#   $CACHE/kube/<k8s-version>/bin/kubectl          (component `kubectl`; same module and version)
#   $CACHE/kube/<k8s-version>/bin/{kubelet,kube-scheduler,kube-proxy}  (component `node`: what a
#                                                  one-node cluster adds; not built by default)
#   $CACHE/coredns/<coredns-version>/bin/coredns   (component `coredns`: the cluster DNS; not default)
#   $CACHE/etcd/<etcd-version>/bin/etcd
#   $CACHE/helm/<helm-version>/bin/helm
#
#   CACHE = ${TSMESH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tsmesh}
#
# Usage:
#   build-kube.sh [kube] [etcd] [helm] [kubectl] [node] [coredns]   build what is missing (default: the first four)
#   build-kube.sh --print-env            print KEY=VALUE lines (versions and binary paths); builds nothing
#
# Overrides: K8S_VERSION, ETCD_VERSION, HELM_VERSION, COREDNS_VERSION, GO (path to the go command).
# A binary that exists is never rebuilt. Binaries are written under a temporary name and renamed
# into place, so an interrupted build never leaves a half-written binary behind. A lock file
# serialises concurrent invocations (two test runs starting at once build only once).
#
# Why a wrapper module: k8s.io/kubernetes and go.etcd.io/etcd/server/v3 carry `replace`
# directives in their go.mod, so `go install pkg@version` refuses them; and k8s.io/kubernetes
# requires its staging modules at the placeholder v0.0.0, which does not exist on the proxy. A
# throw-away main module that requires the target and (for Kubernetes) replaces every staging
# module with its published v0.X.Y builds them with a plain `go build`.
# See packages/testenv/README.md for measured build times and the errors met on the way.
set -euo pipefail

# v1.34.10 is the newest 1.34 patch whose checksums the module proxy's sumdb endpoint serves here
# (v1.34.11/.12 are on the proxy but their sum.golang.org lookup 404s; see README). We keep
# checksum verification on rather than setting GONOSUMDB.
K8S_VERSION=${K8S_VERSION:-v1.34.10}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
HELM_VERSION=${HELM_VERSION:-v3.22.0}
# CoreDNS: kubeadm 1.34 deploys v1.12.1; v1.12.4 is the newest patch of that line here.
COREDNS_VERSION=${COREDNS_VERSION:-v1.12.4}

CACHE=${TSMESH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tsmesh}
KUBE_DIR=$CACHE/kube/$K8S_VERSION
ETCD_DIR=$CACHE/etcd/$ETCD_VERSION
HELM_DIR=$CACHE/helm/$HELM_VERSION
COREDNS_DIR=$CACHE/coredns/$COREDNS_VERSION

print_env() {
  cat <<EOF
TSMESH_CACHE_DIR=$CACHE
K8S_VERSION=$K8S_VERSION
ETCD_VERSION=$ETCD_VERSION
HELM_VERSION=$HELM_VERSION
COREDNS_VERSION=$COREDNS_VERSION
KUBE_APISERVER=$KUBE_DIR/bin/kube-apiserver
KUBE_CONTROLLER_MANAGER=$KUBE_DIR/bin/kube-controller-manager
KUBECTL=$KUBE_DIR/bin/kubectl
KUBELET=$KUBE_DIR/bin/kubelet
KUBE_SCHEDULER=$KUBE_DIR/bin/kube-scheduler
KUBE_PROXY=$KUBE_DIR/bin/kube-proxy
ETCD=$ETCD_DIR/bin/etcd
HELM=$HELM_DIR/bin/helm
COREDNS=$COREDNS_DIR/bin/coredns
EOF
}

if [[ ${1:-} == --print-env ]]; then
  print_env
  exit 0
fi

components=("$@")
[[ ${#components[@]} -eq 0 ]] && components=(kube etcd helm kubectl)
for c in "${components[@]}"; do
  case $c in kube | etcd | helm | kubectl | node | coredns) ;; *) echo "build-kube.sh: unknown component '$c' (kube, etcd, helm, kubectl, node, coredns)" >&2; exit 2 ;; esac
done

log() { printf '[build-kube %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# GOTOOLCHAIN=local: a module asking for a newer Go fails loudly instead of fetching a toolchain.
# CGO_ENABLED=0: upstream builds these server binaries without cgo; no C toolchain involved.
# GOMODCACHE/GOCACHE stay at Go's defaults so they persist between builds on the machine.
export GOTOOLCHAIN=local CGO_ENABLED=0
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
[[ -x $GO ]] || { echo "build-kube.sh: no Go toolchain (set GO=/path/to/go)" >&2; exit 1; }

# Wrap a build step in /usr/bin/time when available, so the log shows wall time and peak RSS.
timed() {
  local what=$1; shift
  if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -f "[build-kube] $what: %e s wall, %M KB peak RSS, exit %x" "$@"
  else
    "$@"
  fi
}

all_present() { local f; for f in "$@"; do [[ -x $f ]] || return 1; done; }

# Move freshly built binaries from a temp dir into bin/ (rename(2) on the same filesystem is atomic).
install_bins() {
  local tmp=$1 dest=$2; shift 2
  local b
  for b in "$@"; do
    [[ -x $tmp/$b ]] || { echo "build-kube.sh: build produced no $b" >&2; return 1; }
    mv -f "$tmp/$b" "$dest/$b"
  done
}

# The -ldflags of the Kubernetes binaries. Stamps the version: otherwise /version says
# v0.0.0-master+$Format:%H$ and Helm kubeVersion checks and kubectl skew warnings misbehave. Same
# keys as upstream hack/lib/version.sh. `kube_ldflags with-date` adds buildDate (server binaries).
kube_ldflags() {
  local v=${K8S_VERSION#v} maj min p ldf="-s -w"
  maj=${v%%.*}; min=$(cut -d. -f2 <<<"$v")
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=$maj -X $p.gitMinor=$min"
    ldf+=" -X $p.gitTreeState=clean -X $p.gitCommit=module-$K8S_VERSION"
    [[ ${1:-} != with-date ]] || ldf+=" -X $p.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done
  printf '%s' "$ldf"
}

build_kube() {
  local bins=("$KUBE_DIR/bin/kube-apiserver" "$KUBE_DIR/bin/kube-controller-manager")
  if all_present "${bins[@]}"; then log "kube $K8S_VERSION: present"; return 0; fi
  log "kube $K8S_VERSION: building kube-apiserver and kube-controller-manager (10-30 min cold on 2 cores)"
  local staging=v0.${K8S_VERSION#v1.}   # v1.34.12 -> v0.34.12 (the staging repos' matching tag)
  local mod=$KUBE_DIR/module
  mkdir -p "$KUBE_DIR/bin" "$mod"
  (
    cd "$mod"
    # k/k's own go.mod: its `go` and `godebug` lines are what the upstream build uses as main module,
    # and its `require … v0.0.0` lines name the staging modules that need a replace.
    local kk_json kk_gomod
    # `go mod download -json` reports failures (e.g. a checksum-database lookup that 404s) in an
    # "Error" field; surface it instead of failing later with an empty path.
    kk_json=$("$GO" mod download -json "k8s.io/kubernetes@$K8S_VERSION" || true)
    kk_gomod=$(sed -n 's/.*"GoMod": "\(.*\)",*/\1/p' <<<"$kk_json")
    if [[ ! -f $kk_gomod ]] || grep -q '"Error"' <<<"$kk_json"; then
      echo "build-kube.sh: could not download k8s.io/kubernetes@$K8S_VERSION:" >&2
      sed -n 's/.*"Error": "\(.*\)",*/  \1/p' <<<"$kk_json" >&2
      exit 1
    fi
    local go_line
    go_line=$(awk '$1 == "go" {print $2; exit}' "$kk_gomod")
    {
      printf 'module local/tsmesh-kube-bins\n\ngo %s\n\n' "$go_line"
      # `godebug default=go1.24` etc.: same runtime GODEBUG defaults as the upstream build.
      awk '$1 == "godebug" && $2 != "(" {print}' "$kk_gomod"
    } >go.mod.new
    mv go.mod.new go.mod
    rm -f go.sum
    local m n=0
    for m in $(awk '$1 ~ /^k8s\.io\/[a-z0-9-]+$/ && $2 == "v0.0.0" {print $1}' "$kk_gomod"); do
      "$GO" mod edit -replace="$m=$m@$staging"
      n=$((n + 1))
    done
    # The two sample modules are in k/k's replace block but not required; replacing them is harmless.
    log "kube: $n staging modules replaced with $staging"
    timed "go get kubernetes" "$GO" get -tool "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION" \
      "k8s.io/kubernetes/cmd/kube-controller-manager@$K8S_VERSION"
    timed "go mod tidy kubernetes" "$GO" mod tidy
    local ldf
    ldf=$(kube_ldflags with-date)
    local tmp
    tmp=$(mktemp -d "$KUBE_DIR/bin/.build.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    # Same flags as upstream hack/lib/golang.sh for server binaries.
    timed "go build kube-apiserver" "$GO" build -trimpath -tags selinux,notest,grpcnotrace -ldflags "$ldf" \
      -o "$tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
    timed "go build kube-controller-manager" "$GO" build -trimpath -tags selinux,notest,grpcnotrace -ldflags "$ldf" \
      -o "$tmp/kube-controller-manager" k8s.io/kubernetes/cmd/kube-controller-manager
    "$tmp/kube-apiserver" --version >&2
    install_bins "$tmp" "$KUBE_DIR/bin" kube-apiserver kube-controller-manager
  )
  log "kube $K8S_VERSION: done"
}

# kubectl from the same wrapper module as the server binaries (so the same k8s.io/kubernetes version
# and staging replaces): tests pipe manifests through it instead of whatever kubectl a machine has.
build_kubectl() {
  local bin=$KUBE_DIR/bin/kubectl
  if all_present "$bin"; then log "kubectl $K8S_VERSION: present"; return 0; fi
  [[ -f $KUBE_DIR/module/go.mod ]] || build_kube
  log "kubectl $K8S_VERSION: building"
  (
    cd "$KUBE_DIR/module"
    timed "go get kubectl" "$GO" get -tool "k8s.io/kubernetes/cmd/kubectl@$K8S_VERSION"
    timed "go mod tidy kubectl" "$GO" mod tidy
    local ldf
    ldf=$(kube_ldflags)
    local tmp
    tmp=$(mktemp -d "$KUBE_DIR/bin/.build.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    timed "go build kubectl" "$GO" build -trimpath -ldflags "$ldf" -o "$tmp/kubectl" k8s.io/kubernetes/cmd/kubectl
    "$tmp/kubectl" version --client >&2
    install_bins "$tmp" "$KUBE_DIR/bin" kubectl
  )
  log "kubectl $K8S_VERSION: done"
}

# kubelet, kube-scheduler and kube-proxy (component `node`): what `testenv up --cluster` adds to the
# control plane. Same wrapper module, version and flags as the server binaries. Not part of the
# default build (CI's control-plane tests do not need them); the cluster tests ask for it.
build_node() {
  local names=(kubelet kube-scheduler kube-proxy) n missing=()
  for n in "${names[@]}"; do [[ -x $KUBE_DIR/bin/$n ]] || missing+=("$n"); done
  if [[ ${#missing[@]} -eq 0 ]]; then log "node binaries $K8S_VERSION: present"; return 0; fi
  [[ -f $KUBE_DIR/module/go.mod ]] || build_kube
  log "node binaries $K8S_VERSION: building ${missing[*]} (several minutes each on 2 cores)"
  (
    cd "$KUBE_DIR/module"
    local tools=()
    for n in "${missing[@]}"; do tools+=("k8s.io/kubernetes/cmd/$n@$K8S_VERSION"); done
    timed "go get node binaries" "$GO" get -tool "${tools[@]}"
    timed "go mod tidy node binaries" "$GO" mod tidy
    local ldf
    ldf=$(kube_ldflags with-date)
    local tmp
    tmp=$(mktemp -d "$KUBE_DIR/bin/.build.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    for n in "${missing[@]}"; do
      timed "go build $n" "$GO" build -trimpath -tags selinux,notest,grpcnotrace -ldflags "$ldf" \
        -o "$tmp/$n" "k8s.io/kubernetes/cmd/$n"
      "$tmp/$n" --version >&2
    done
    install_bins "$tmp" "$KUBE_DIR/bin" "${missing[@]}"
  )
  log "node binaries $K8S_VERSION: done"
}

build_etcd() {
  local bin=$ETCD_DIR/bin/etcd
  if all_present "$bin"; then log "etcd $ETCD_VERSION: present"; return 0; fi
  log "etcd $ETCD_VERSION: building"
  local mod=$ETCD_DIR/module
  mkdir -p "$ETCD_DIR/bin" "$mod"
  (
    cd "$mod"
    # go.etcd.io/etcd/server/v3's root package is `main` (server/main.go). Its go.mod has
    # `replace ../api` lines, so a wrapper module; its requires use real versions, so no replaces.
    printf 'module local/tsmesh-etcd-bin\n\ngo 1.24\n' >go.mod
    rm -f go.sum
    timed "go get etcd" "$GO" get -tool "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    timed "go mod tidy etcd" "$GO" mod tidy
    local tmp
    tmp=$(mktemp -d "$ETCD_DIR/bin/.build.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    # As upstream scripts/build_lib.sh, plus -s -w.
    timed "go build etcd" "$GO" build -trimpath -installsuffix=cgo \
      -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module-$ETCD_VERSION" \
      -o "$tmp/etcd" go.etcd.io/etcd/server/v3
    "$tmp/etcd" --version >&2
    install_bins "$tmp" "$ETCD_DIR/bin" etcd
  )
  log "etcd $ETCD_VERSION: done"
}

build_helm() {
  local bin=$HELM_DIR/bin/helm
  if all_present "$bin"; then log "helm $HELM_VERSION: present"; return 0; fi
  log "helm $HELM_VERSION: building"
  mkdir -p "$HELM_DIR/bin"
  local tmp
  tmp=$(mktemp -d "$HELM_DIR/bin/.build.XXXXXX")
  (
    trap 'rm -rf "$tmp"' EXIT
    cd "$tmp"
    # helm's go.mod has no replace directives, so `go install pkg@version` works directly.
    # The k8sVersion* variables are the Kubernetes version offline `helm template`/`lint` assume
    # (default 1.20 otherwise); set them to the Kubernetes version we build.
    local kv=${K8S_VERSION#v} kmaj kmin
    kmaj=${kv%%.*}; kmin=$(cut -d. -f2 <<<"$kv")
    local ldf="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
    ldf+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean -X helm.sh/helm/v3/internal/version.gitCommit=module-$HELM_VERSION"
    ldf+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=$kmaj -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$kmin"
    ldf+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=$kmaj -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$kmin"
    GOBIN=$tmp timed "go install helm" "$GO" install -trimpath -ldflags "$ldf" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
    "$tmp/helm" version >&2
    install_bins "$tmp" "$HELM_DIR/bin" helm
  )
  log "helm $HELM_VERSION: done"
}

build_coredns() {
  local bin=$COREDNS_DIR/bin/coredns
  if all_present "$bin"; then log "coredns $COREDNS_VERSION: present"; return 0; fi
  log "coredns $COREDNS_VERSION: building"
  mkdir -p "$COREDNS_DIR/bin"
  local tmp
  tmp=$(mktemp -d "$COREDNS_DIR/bin/.build.XXXXXX")
  (
    trap 'rm -rf "$tmp"' EXIT
    cd "$tmp"
    # CoreDNS's go.mod has no replace directives and its main package is the module root, so
    # `go install pkg@version` works. Static (CGO_ENABLED=0): it runs from an image with no libc.
    GOBIN=$tmp timed "go install coredns" "$GO" install -trimpath \
      -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=module-$COREDNS_VERSION" \
      "github.com/coredns/coredns@$COREDNS_VERSION"
    "$tmp/coredns" -version >&2
    install_bins "$tmp" "$COREDNS_DIR/bin" coredns
  )
  log "coredns $COREDNS_VERSION: done"
}

mkdir -p "$CACHE"
# One build at a time per cache (and these builds are CPU- and memory-heavy anyway).
exec 9>"$CACHE/.build.lock"
if ! flock -n 9; then
  log "another build holds $CACHE/.build.lock; waiting"
  flock 9
fi

for c in "${components[@]}"; do
  case $c in
    kube) build_kube ;;
    etcd) build_etcd ;;
    helm) build_helm ;;
    kubectl) build_kubectl ;;
    node) build_node ;;
    coredns) build_coredns ;;
  esac
done
print_env
