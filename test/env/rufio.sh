#!/usr/bin/env bash
# Test bed step "rufio": Tinkerbell Rufio, the bmc.tinkerbell.org controller (Machine, Job, Task), built with the
# machine's Go from the Go module proxy, for test/cluster/rufio.test.ts. Never downloads a prebuilt binary or image.
#
# The pinned version lives in test/env/rufio/go.mod + go.sum (a `tool` requirement, so Rufio builds with the
# dependency versions of its own release). Results land in
#   $QEMU_BMC_CACHE/rufio-<key>/bin/rufio   the controller
#   $QEMU_BMC_CACHE/rufio-<key>/crd/*.yaml  its CustomResourceDefinitions, copied from the module at build time
# key = first 12 hex of sha256(go.mod then go.sum) (test/support/rufio.ts computes the same), and
# $QEMU_BMC_CACHE/rufio links to the newest complete build. Warm runs (both present for the key) do nothing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
module="$here/rufio"
cache="${QEMU_BMC_CACHE:-$HOME/.cache/qemu-bmc}"
mkdir -p "$cache"

die() {
  echo "rufio step: $*" >&2
  exit 1
}
log() { echo "rufio step: $*"; }

key="$(cat "$module/go.mod" "$module/go.sum" | sha256sum | cut -c1-12)"
out="$cache/rufio-$key"

complete() { [ -x "$out/bin/rufio" ] && compgen -G "$out/crd/bmc.tinkerbell.org_*.yaml" >/dev/null; }

if complete; then
  ln -sfn "rufio-$key" "$cache/rufio"
  log "rufio in $out is up to date"
  exit 0
fi

command -v go >/dev/null || PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || die "go not found on PATH or in /usr/local/go/bin (a Go toolchain >= 1.26 is needed)"
exec 9>"$cache/rufio-step.lock"
flock -w 900 9 || die "another rufio step holds $cache/rufio-step.lock"
if complete; then
  ln -sfn "rufio-$key" "$cache/rufio"
  log "rufio in $out was built meanwhile"
  exit 0
fi

# The machine's own toolchain and proxy; go.sum must already list every module (no silent re-resolution).
# Go's caches are shared with the k8s step, so the Kubernetes client libraries are downloaded and compiled once.
export GOTOOLCHAIN=local
export GOMODCACHE="$cache/go/mod"
export GOCACHE="$cache/go/build"
export GOFLAGS="-modcacherw -buildvcs=false -mod=readonly"
export CGO_ENABLED=0

version="$(awk '$1 == "github.com/tinkerbell/rufio" { print $2; exit }' "$module/go.mod")"
[ -n "$version" ] || die "no github.com/tinkerbell/rufio requirement in $module/go.mod"
work="$(mktemp -d "$cache/rufio-work.XXXXXX")"
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
log "building github.com/tinkerbell/rufio $version with $(go env GOVERSION) (GOPROXY=$(go env GOPROXY))"
(cd "$module" && go build -trimpath -ldflags='-s -w' -o "$work/bin/rufio" github.com/tinkerbell/rufio) ||
  die "build of rufio failed"
src="$(cd "$module" && go list -m -f '{{.Dir}}' github.com/tinkerbell/rufio)"
mkdir -p "$work/crd"
cp "$src"/config/crd/bases/bmc.tinkerbell.org_*.yaml "$work/crd/" || die "no CRDs under $src/config/crd/bases"
chmod -R u+w,go+rX "$work"
rm -rf "$out"
mv "$work" "$out"
trap - EXIT
ln -sfn "rufio-$key" "$cache/rufio"
# Builds for older pins are dead weight once the current one exists.
find "$cache" -maxdepth 1 -type d -regex '.*/rufio-[0-9a-f]\{12\}' ! -name "rufio-$key" -exec rm -rf {} +
log "rufio $version ready in $out ($(($(date +%s) - start))s)"
