#!/usr/bin/env bash
# Installs the whole test bed, idempotently. Each step caches its results under $QEMU_BMC_CACHE, keyed by version.
# Usage: test/env/install.sh [step ...]   (default: every step)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export QEMU_BMC_CACHE="${QEMU_BMC_CACHE:-$HOME/.cache/qemu-bmc}"
mkdir -p "$QEMU_BMC_CACHE"
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(apt guest docker python ironic go-peers k8s rufio node)
for step in "${steps[@]}"; do
  script="$here/$step.sh"
  [ -f "$script" ] || { echo "test bed: no step '$step' ($script)" >&2; exit 2; }
  start=$(date +%s)
  echo "== test bed: $step"
  bash "$script"
  echo "== test bed: $step done in $(( $(date +%s) - start ))s"
done
