#!/usr/bin/env bash
# Test bed step: Kubernetes binaries for the cluster suite (envtest-style: real etcd + kube-apiserver, plus kubectl,
# helm and kwok), built from Go modules through the machine's Go module proxy. Never downloads prebuilt binaries.
#
# The pinned versions live in test/env/k8s/<module>/go.mod + go.sum (one small Go module per upstream project, so
# each is built with the dependency versions its own release uses). Binaries land in
#   $QEMU_BMC_CACHE/k8s-<kubernetes version>-<hash of the modules>/bin
# and $QEMU_BMC_CACHE/k8s-bin is a symlink to the newest complete set (test/support/cluster.ts reads it).
# Warm runs (every binary present for the key) do nothing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
modules="$here/k8s"
cache="${QEMU_BMC_CACHE:-$HOME/.cache/qemu-bmc}"

# name | module dir under test/env/k8s | Go package. Adding a binary is one line here (the kubernetes module
# already lists kube-controller-manager, kube-scheduler, kubelet and kube-proxy as tools, so go.sum covers them).
binaries=(
  "etcd           etcd       go.etcd.io/etcd/server/v3"
  "kube-apiserver kubernetes k8s.io/kubernetes/cmd/kube-apiserver"
  "kubectl        kubernetes k8s.io/kubernetes/cmd/kubectl"
  "kube-controller-manager kubernetes k8s.io/kubernetes/cmd/kube-controller-manager"
  "kube-scheduler kubernetes k8s.io/kubernetes/cmd/kube-scheduler"
  "kubelet        kubernetes k8s.io/kubernetes/cmd/kubelet"
  "kube-proxy     kubernetes k8s.io/kubernetes/cmd/kube-proxy"
  "helm           helm       helm.sh/helm/v3/cmd/helm"
  "kwok           kwok       sigs.k8s.io/kwok/cmd/kwok"
)

# The Go toolchain of this kind of machine lives in /usr/local/go; a non-login shell may not have it on PATH.
command -v go >/dev/null || PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { echo "k8s: 'go' not found on PATH (a Go toolchain >= 1.26 is needed to build the binaries)" >&2; exit 1; }

# Version of a module as required by one of our go.mod files.
required_version() { awk -v m="$2" '$1 == m { print $2; exit }' "$modules/$1/go.mod"; }

k8s_version="$(required_version kubernetes k8s.io/kubernetes)"
helm_version="$(required_version helm helm.sh/helm/v3)"
[ -n "$k8s_version" ] && [ -n "$helm_version" ] || { echo "k8s: cannot read pinned versions from $modules/*/go.mod" >&2; exit 1; }

# Version stamps, as upstream's release builds set them (charts and clients compare server versions).
ldflags_for() {
  local name="$1" flags="-s -w"
  case "$name" in
    kube-* | kubectl | kubelet)
      local minor="${k8s_version#v1.}"
      minor="${minor%%.*}"
      for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        flags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
      done
      ;;
    helm) flags+=" -X helm.sh/helm/v3/internal/version.version=$helm_version" ;;
  esac
  echo "$flags"
}
# The key changes whenever a pin, a checksum, the Go toolchain or the build flags change.
go_version="$(go env GOVERSION)"
key_input="$(cat "$modules"/*/go.mod "$modules"/*/go.sum; echo "$go_version"; declare -f ldflags_for)"
key="$k8s_version-$(printf '%s' "$key_input" | sha256sum | cut -c1-12)"
dest="$cache/k8s-$key"
bin="$dest/bin"

missing=()
for entry in "${binaries[@]}"; do
  read -r name _ _ <<<"$entry"
  [ -x "$bin/$name" ] || missing+=("$name")
done

link_current() { ln -sfn "$bin" "$cache/k8s-bin.tmp" && mv -T "$cache/k8s-bin.tmp" "$cache/k8s-bin"; }

if [ ${#missing[@]} -eq 0 ]; then
  link_current
  echo "k8s: all binaries present in $bin (kubernetes $k8s_version)"
  exit 0
fi

mkdir -p "$bin"
# One builder at a time per key: a second run waits, then finds the binaries present.
exec 9>"$dest/.lock"
flock 9

# Go's caches live under the test bed cache so warm rebuilds (a new binary, a bumped patch) reuse everything.
export GOTOOLCHAIN=local
export GOMODCACHE="$cache/go/mod"
export GOCACHE="$cache/go/build"
export GOFLAGS="-modcacherw -buildvcs=false -mod=readonly"
export CGO_ENABLED=0

echo "k8s: building ${missing[*]} (kubernetes $k8s_version, $go_version) into $bin"
total_start=$(date +%s)
for entry in "${binaries[@]}"; do
  read -r name module package <<<"$entry"
  [ -x "$bin/$name" ] && continue
  start=$(date +%s)
  echo "k8s: [$name] go build $package"
  (cd "$modules/$module" && go build -trimpath -ldflags="$(ldflags_for "$name")" -o "$bin/.$name.partial" "$package")
  mv -f "$bin/.$name.partial" "$bin/$name"
  echo "k8s: [$name] built in $(($(date +%s) - start))s ($(du -h "$bin/$name" | cut -f1))"
done
link_current
echo "k8s: done in $(($(date +%s) - total_start))s; binaries in $bin"
