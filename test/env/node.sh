#!/usr/bin/env bash
# Test bed step "node": what a real single-node Kubernetes needs beyond the binaries of test/env/k8s.sh
# (kubelet, kube-proxy, ...): Debian's containerd, runc and CNI plugins (installed by apt.sh), and the pod sandbox
# ("pause") image, compiled here from the pause.c that ships in the pinned k8s.io/kubernetes module and imported
# into the local Docker engine as $PAUSE_IMAGE. No registry is involved: test/support/node.ts copies images from
# Docker into the node's containerd.
# Idempotent: a warm run (image present with the current key) only asks Docker.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${QEMU_BMC_CACHE:-$HOME/.cache/qemu-bmc}"
# Kept in step with test/support/node.ts.
PAUSE_IMAGE="qemu-bmc.local/pause:3.10"

fail() {
  echo "node: $*" >&2
  exit 1
}

for cmd in containerd containerd-shim-runc-v2 runc iptables conntrack gcc docker; do
  command -v "$cmd" >/dev/null || fail "'$cmd' not found; run: npm run bed -- apt docker"
done
for plugin in bridge host-local loopback portmap firewall; do
  [ -x "/usr/lib/cni/$plugin" ] || fail "CNI plugin /usr/lib/cni/$plugin missing; run: npm run bed -- apt"
done
docker info >/dev/null 2>&1 || fail "the Docker engine is not running; run: npm run bed -- docker"

k8s_version="$(awk '$1 == "k8s.io/kubernetes" { print $2; exit }' "$here/k8s/kubernetes/go.mod")"
source_file="$cache/go/mod/k8s.io/kubernetes@$k8s_version/build/pause/linux/pause.c"
[ -f "$source_file" ] || fail "$source_file missing (the k8s step downloads the module); run: npm run bed -- k8s"

key="$( (sha256sum "$source_file"; gcc --version | head -1) | sha256sum | cut -c1-12)"
if [ "$(docker image inspect --format '{{ index .Config.Labels "qemu-bmc.key" }}' "$PAUSE_IMAGE" 2>/dev/null)" = "$key" ]; then
  echo "node: $PAUSE_IMAGE present (key $key)"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs"
# Static, so the image needs nothing but the one file.
gcc -Os -Wall -Werror -static -DVERSION="$k8s_version-qemu-bmc" -o "$work/rootfs/pause" "$source_file"
strip "$work/rootfs/pause"
tar -C "$work/rootfs" -cf "$work/pause.tar" pause
docker import \
  --change 'ENTRYPOINT ["/pause"]' \
  --change 'USER 65535:65535' \
  --change "LABEL qemu-bmc.key=$key" \
  "$work/pause.tar" "$PAUSE_IMAGE" >/dev/null
echo "node: built $PAUSE_IMAGE from $source_file ($(stat -c %s "$work/rootfs/pause") bytes, key $key)"
