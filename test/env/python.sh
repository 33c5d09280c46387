#!/usr/bin/env bash
# Test bed step "python": a venv with the Python peers (sushy, pyghmi, DMTF validators, sushy-tools, virtualbmc)
# from PyPI, in $QEMU_BMC_CACHE/venv-<key>, key = hash of requirements-peers.txt and constraints-peers.txt.
# $QEMU_BMC_CACHE/venv-peers points at the current one (test/support/python.ts checks the key).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${QEMU_BMC_CACHE:-$HOME/.cache/qemu-bmc}"
mkdir -p "$cache"
python="${QEMU_BMC_PYTHON:-/usr/bin/python3}"

die() {
  echo "python step: $*" >&2
  exit 1
}
log() { echo "python step: $*"; }

# Same recipe as test/support/python.ts: sha256 of `sha256sum` over the pinned files, first 12 hex digits.
key="$(cd "$here" && sha256sum requirements-peers.txt constraints-peers.txt | sha256sum | cut -c1-12)"
venv="$cache/venv-$key"
link="$cache/venv-peers"
marker="$venv/.bed-complete"

# Every top-level peer must import; a venv that fails this (interpreter upgraded, half-written) is rebuilt.
venv_works() {
  [ -f "$marker" ] && "$venv/bin/python" -c 'import sushy, pyghmi, sushy_tools, virtualbmc, libvirt' 2>/dev/null
}

# libvirt-python (a virtualbmc dependency) has no wheel: it builds against libvirt-dev with gcc and Python.h.
ensure_build_deps() {
  local missing=() pkg
  for pkg in python3-venv python3-dev libvirt-dev pkg-config gcc; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing Debian packages: ${missing[*]} (install them as root)"
  log "installing Debian packages: ${missing[*]}"
  local install=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends)
  # A machine whose package lists were never fetched needs one `apt-get update` first.
  "${install[@]}" "${missing[@]}" >/dev/null 2>&1 || {
    apt-get -o DPkg::Lock::Timeout=600 update -qq && "${install[@]}" "${missing[@]}" >/dev/null
  } || die "could not install ${missing[*]}"
}

if venv_works; then
  ln -sfn "venv-$key" "$link"
  log "venv $venv is up to date"
  exit 0
fi

exec 9>"$cache/python-step.lock"
flock -w 900 9 || die "another python step holds $cache/python-step.lock"
venv_works && {
  ln -sfn "venv-$key" "$link"
  exit 0
}

ensure_build_deps
[ -x "$python" ] || die "$python not found (set QEMU_BMC_PYTHON to a Python >= 3.10)"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || die "$python is older than 3.10"

rm -rf "$venv"
log "creating $venv with $("$python" --version)"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  -r "$here/requirements-peers.txt" -c "$here/constraints-peers.txt" ||
  die "pip install failed; the venv at $venv is incomplete"
"$venv/bin/python" -c 'import sushy, pyghmi, sushy_tools, virtualbmc, libvirt' || die "peers installed but do not import"
echo "$key" >"$marker"
ln -sfn "venv-$key" "$link"

# Older venvs of this step are dead weight once the current one works.
find "$cache" -maxdepth 1 -type d -regex '.*/venv-[0-9a-f]\{12\}' ! -name "venv-$key" -exec rm -rf {} +
log "venv ready: $venv"
