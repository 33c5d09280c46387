#!/usr/bin/env bash
# What the agent needs at run time on a Debian host: QEMU, its tools, firmware and the curl block driver.
# Idempotent: does nothing when everything is present.
set -euo pipefail
packages=(qemu-system-x86 qemu-utils qemu-block-extra ovmf ipxe-qemu)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "qemu-bmc needs: ${missing[*]} — install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]} ..."
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
