#!/usr/bin/env bash
# Test bed step "ironic": OpenStack Ironic (standalone: API + conductor in one `ironic` process, sqlite, noauth)
# and the `baremetal` CLI from PyPI, in $QEMU_BMC_CACHE/ironic-venv-<key>, key = hash of requirements-ironic.txt
# and constraints-ironic.txt. Ironic's ipmi driver shells out to ipmitool (the apt step installs it).
# test/support/ironic.ts computes the same key and fails loudly when the venv is absent or stale.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${QEMU_BMC_CACHE:-$HOME/.cache/qemu-bmc}"
mkdir -p "$cache"
python="${QEMU_BMC_PYTHON:-/usr/bin/python3}"

die() {
  echo "ironic step: $*" >&2
  exit 1
}
log() { echo "ironic step: $*"; }

# Same recipe as test/support/ironic.ts: sha256 of `sha256sum` over the pinned files, first 12 hex digits.
key="$(cd "$here" && sha256sum requirements-ironic.txt constraints-ironic.txt | sha256sum | cut -c1-12)"
# Not "venv-<hex>": python.sh removes those that are not its own.
venv="$cache/ironic-venv-$key"
marker="$venv/.bed-complete"

venv_works() {
  [ -f "$marker" ] && [ -x "$venv/bin/ironic" ] && [ -x "$venv/bin/baremetal" ] &&
    "$venv/bin/python" -c 'import ironic, sushy, ironicclient' 2>/dev/null
}

if venv_works; then
  log "venv $venv is up to date"
  exit 0
fi

exec 9>"$cache/ironic-step.lock"
flock -w 900 9 || die "another ironic step holds $cache/ironic-step.lock"
venv_works && exit 0

if ! "$python" -c 'import ensurepip' 2>/dev/null; then
  [ "$(id -u)" = 0 ] || die "python3-venv is missing (install it as root)"
  log "installing python3-venv"
  env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends \
    python3-venv >/dev/null 2>&1 || {
    apt-get -o DPkg::Lock::Timeout=600 update -qq &&
      env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends \
        python3-venv >/dev/null
  } || die "could not install python3-venv"
fi
[ -x "$python" ] || die "$python not found (set QEMU_BMC_PYTHON to a Python >= 3.10)"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || die "$python is older than 3.10"

rm -rf "$venv"
log "creating $venv with $("$python" --version)"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  -r "$here/requirements-ironic.txt" -c "$here/constraints-ironic.txt" ||
  die "pip install failed; the venv at $venv is incomplete"
"$venv/bin/python" -c 'import ironic, sushy, ironicclient' || die "Ironic installed but does not import"
echo "$key" >"$marker"

# Older venvs of this step are dead weight once the current one works.
find "$cache" -maxdepth 1 -type d -name 'ironic-venv-*' ! -name "ironic-venv-$key" -exec rm -rf {} +
log "venv ready: $venv"
