#!/usr/bin/env bash
# Test bed step "apt": the Debian packages every suite needs.
# Idempotent; the warm path (everything installed) only asks dpkg and never touches the network.
set -euo pipefail

packages=(
  # QEMU and its firmware: the VMs under test (TCG only)
  qemu-system-x86 qemu-utils qemu-block-extra ovmf ipxe-qemu
  # IPMI peers: clients for the integration suite, ipmi_sim for benchmarks
  ipmitool freeipmi-tools openipmi
  # browser suite (headless, through playwright-core) and fonts for readable screenshots
  chromium fonts-liberation fonts-dejavu-core
  # container suite and base-image rootfs
  docker.io docker-compose debootstrap
  # e2e suite: a real single-node Kubernetes (kubelet's container runtime, OCI runtime, CNI plugins, kube-proxy's
  # iptables and conntrack; the pause image is compiled with gcc -static)
  containerd runc containernetworking-plugins iptables conntrack libc6-dev
  # Python peers: virtualbmc builds libvirt-python from source
  python3-venv python3-dev libvirt-dev pkg-config gcc
  # guest fixture: kernel, static busybox, initramfs packing, module decompression
  linux-image-amd64 busybox-static cpio gzip xz-utils zstd kmod
  # tools the tests and scripts drive
  tmux expect socat iproute2 procps curl ca-certificates openssl
)

installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

missing=()
for pkg in "${packages[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "apt: all ${#packages[@]} packages present"
  exit 0
fi

echo "apt: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Other steps may be installing packages at the same time: wait for the dpkg lock rather than fail.
apt-get -o DPkg::Lock::Timeout=600 update -q
apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
