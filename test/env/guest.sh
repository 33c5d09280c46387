#!/usr/bin/env bash
# Test bed step "guest": the QEMU guest fixture, a Debian kernel plus a small initramfs
# (busybox-static, ipmitool with its libraries, freeipmi's bmc-config/ipmi-config and ipmi-locate for MAAS's
# commissioning flow, the IPMI and fw_cfg kernel modules, test/env/guest/init).
# Built into $QEMU_BMC_CACHE/guest-<key>/ where <key> hashes every input, so a change rebuilds it.
#
# Usage: guest.sh          build the fixture when missing, print its directory
#        guest.sh --dir    only print the directory the current inputs map to (no build)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${QEMU_BMC_CACHE:-$HOME/.cache/qemu-bmc}"
modules=(ipmi_msghandler ipmi_devintf ipmi_si qemu_fw_cfg)

die() { echo "guest: $*" >&2; exit 1; }

# Newest kernel that has both its image and its modules installed (from linux-image-amd64).
kernel_version() {
  local image version best=
  for image in /boot/vmlinuz-*; do
    [ -f "$image" ] || continue
    version="${image#/boot/vmlinuz-}"
    [ -f "/lib/modules/$version/modules.dep" ] || continue
    best="$(printf '%s\n%s\n' "$best" "$version" | sort -V | tail -n1)"
  done
  [ -n "$best" ] || die "no /boot/vmlinuz-* with matching /lib/modules; run: bash test/env/apt.sh (linux-image-amd64)"
  echo "$best"
}

package_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo missing; }

kver="$(kernel_version)"
key="$(
  {
    echo "kernel $kver $(package_version "linux-image-$kver")"
    echo "busybox $(package_version busybox-static) ipmitool $(package_version ipmitool)"
    echo "freeipmi-tools $(package_version freeipmi-tools)"
    echo "modules ${modules[*]}"
    cat "${BASH_SOURCE[0]}" "$here/guest/init"
  } | sha256sum | cut -c1-16
)"
out="$cache/guest-$key"

if [ "${1:-}" = --dir ]; then
  echo "$out"
  exit 0
fi

# Fixtures of other inputs (older scripts, kernels) that nobody rebuilt for a week.
find "$cache" -maxdepth 1 -name 'guest-*' ! -name "guest-$key" -mtime +7 -exec rm -rf {} + 2>/dev/null || true

if [ -f "$out/initramfs.cpio.gz" ] && [ -f "$out/vmlinuz" ]; then
  echo "guest: cached $out" >&2
  echo "$out"
  exit 0
fi

for tool in busybox ipmitool ipmi-config ipmi-locate bmc-config cpio gzip; do
  command -v "$tool" >/dev/null || die "'$tool' missing; run: bash test/env/apt.sh"
done
[ "$(package_version busybox-static)" != missing ] || die "busybox-static missing; run: bash test/env/apt.sh"
busybox_bin=/bin/busybox

mkdir -p "$cache"
work="$(mktemp -d "$cache/guest-$key.tmp.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root"/{bin,sbin,etc/qbmc,proc,sys,dev,tmp,run,root,usr/bin,lib64} "$root/lib/modules"

# busybox provides every other command; init links its applets at boot.
cp "$busybox_bin" "$root/bin/busybox"
install -m 0755 "$here/guest/init" "$root/init"

# ipmitool and the shared libraries it loads, at the paths the dynamic loader looks in.
copy_with_libraries() {
  local binary="$1" lib
  cp -L "$binary" "$root/usr/bin/"
  for lib in $(ldd "$binary" | grep -oE '/[^ ]+\.so[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}
copy_with_libraries "$(command -v ipmitool)"
# Not copied: ipmitool's IANA registry (/usr/share/misc/enterprise-numbers.txt, 4.7 MB) adds about 1 s
# to every boot under TCG; without it ipmitool prints manufacturer names as "Unknown" and warns on stderr.

# freeipmi as MAAS's commissioning script (bmc_config.py) calls it: ipmi-locate, and bmc-config (Debian's
# two-line wrapper that runs /usr/sbin/ipmi-config --category=core), with freeipmi.conf. Under 0.6 MB more:
# ipmitool already brings libfreeipmi.
copy_with_libraries "$(command -v ipmi-config)"
copy_with_libraries "$(command -v ipmi-locate)"
mkdir -p "$root/usr/sbin" "$root/etc/freeipmi"
ln -s ../bin/ipmi-config "$root/usr/sbin/ipmi-config"
install -m 0755 "$(command -v bmc-config)" "$root/usr/sbin/bmc-config"
if [ -f /etc/freeipmi/freeipmi.conf ]; then cp /etc/freeipmi/freeipmi.conf "$root/etc/freeipmi/"; fi

# Modules plus their dependencies (modules.dep), dependencies first, decompressed for busybox insmod.
moddir="/lib/modules/$kver"
module_path() {
  local path
  path="$(grep -E "(^|/)$1\.ko(\.xz|\.zst|\.gz)?:" "$moddir/modules.dep" | head -n1 | cut -d: -f1)"
  [ -n "$path" ] || die "module $1 not in $moddir/modules.dep"
  echo "$path"
}
declare -A listed=()
order=()
add_module_file() {
  local path="$1" dep
  [ -z "${listed[$path]:-}" ] || return 0
  for dep in $(grep -E "^$path:" "$moddir/modules.dep" | cut -d: -f2-); do
    add_module_file "$dep"
  done
  listed[$path]=1
  order+=("$path")
}
for module in "${modules[@]}"; do add_module_file "$(module_path "$module")"; done
: >"$root/etc/qbmc/modules.order"
for path in "${order[@]}"; do
  plain="${path%.xz}"; plain="${plain%.zst}"; plain="${plain%.gz}"
  mkdir -p "$root/lib/modules/$(dirname "$plain")"
  case "$path" in
    *.xz) xz -dc "$moddir/$path" >"$root/lib/modules/$plain" ;;
    *.zst) zstd -qdc "$moddir/$path" >"$root/lib/modules/$plain" ;;
    *.gz) gzip -dc "$moddir/$path" >"$root/lib/modules/$plain" ;;
    *) cp "$moddir/$path" "$root/lib/modules/$plain" ;;
  esac
  echo "$plain" >>"$root/etc/qbmc/modules.order"
done

cp "/boot/vmlinuz-$kver" "$work/vmlinuz"
(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) | gzip -6 >"$work/initramfs.cpio.gz"
echo "$kver" >"$work/kernel.version"
rm -rf "$root"
chmod 0755 "$work"
# Atomic publish; when a concurrent build won the race, keep its result and drop ours (the trap).
if mv -T "$work" "$out" 2>/dev/null; then
  trap - EXIT
fi
[ -f "$out/initramfs.cpio.gz" ] || die "could not publish $out"
echo "guest: built $out ($(du -sh "$out/initramfs.cpio.gz" | cut -f1) initramfs, kernel $kver)" >&2
echo "$out"
