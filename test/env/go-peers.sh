#!/usr/bin/env bash
# Test bed step "go-peers": the Go client drivers of test/compat/ (gofish-driver, bmclib-driver), built with the
# machine's Go from the Go module proxy into $QEMU_BMC_CACHE/go-peers-<key>/bin,
# key = hash of every go.mod, go.sum and .go file under test/compat (test/support/compat.ts computes the same).
# Each driver is its own module: bmclib v2 is pinned to an older gofish API than the current gofish release.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
compat="$(cd "$here/../compat" && pwd)"
cache="${QEMU_BMC_CACHE:-$HOME/.cache/qemu-bmc}"
mkdir -p "$cache"
drivers=(gofish bmclib)

die() {
  echo "go-peers step: $*" >&2
  exit 1
}
log() { echo "go-peers step: $*"; }

sources() { (cd "$compat" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) | LC_ALL=C sort); }
key="$(cd "$compat" && sources | xargs sha256sum | sha256sum | cut -c1-12)"
out="$cache/go-peers-$key"

complete() {
  local name
  for name in "${drivers[@]}"; do [ -x "$out/bin/$name-driver" ] || return 1; done
}

if complete; then
  ln -sfn "go-peers-$key" "$cache/go-peers"
  log "drivers in $out/bin are up to date"
  exit 0
fi

command -v go >/dev/null || PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || die "go not found on PATH or in /usr/local/go/bin"
exec 9>"$cache/go-peers-step.lock"
flock -w 900 9 || die "another go-peers step holds $cache/go-peers-step.lock"

# The machine's own toolchain and proxy; go.sum must already list every module (no silent re-resolution).
export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false"
work="$(mktemp -d "$cache/go-peers-work.XXXXXX")"
trap 'rm -rf "$work"' EXIT
log "building ${drivers[*]} with $(go version | cut -d' ' -f3) (GOPROXY=$(go env GOPROXY))"
for name in "${drivers[@]}"; do
  (cd "$compat/$name" && go build -trimpath -o "$work/bin/$name-driver" .) || die "build of $name-driver failed"
done
rm -rf "$out"
chmod 755 "$work"
mv "$work" "$out"
trap - EXIT
ln -sfn "go-peers-$key" "$cache/go-peers"
# Builds for older sources are dead weight once the current one exists.
find "$cache" -maxdepth 1 -type d -regex '.*/go-peers-[0-9a-f]\{12\}' ! -name "go-peers-$key" -exec rm -rf {} +
log "drivers ready in $out/bin"
