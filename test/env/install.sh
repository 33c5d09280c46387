#!/usr/bin/env bash
# Installs the whole test bed, idempotently. Each step caches its results under $QEMU_BMC_CACHE, keyed by version.
# Usage: test/env/install.sh [step ...]   (default: every step)
#
# The full install runs in two lanes at once: the Go builds (k8s, rufio, go-peers: CPU-bound, and needing nothing
# but the machine's Go toolchain and the module proxy) beside the rest (apt, guest, docker, python, ironic: mostly
# downloads and unpacking). On a fresh machine that overlaps the two largest parts of a cold run. The node step
# needs both lanes (Docker and the Kubernetes module), so it runs last. Named steps run in the order given.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export QEMU_BMC_CACHE="${QEMU_BMC_CACHE:-$HOME/.cache/qemu-bmc}"
mkdir -p "$QEMU_BMC_CACHE"

# run_steps STEP...: each step with a header and its duration; stops at the first failure.
run_steps() {
  local step script start
  for step in "$@"; do
    script="$here/$step.sh"
    [ -f "$script" ] || { echo "test bed: no step '$step' ($script)" >&2; return 2; }
    start=$(date +%s)
    echo "== test bed: $step"
    bash "$script" || { echo "== test bed: $step FAILED after $(($(date +%s) - start))s" >&2; return 1; }
    echo "== test bed: $step done in $(($(date +%s) - start))s"
  done
}

if [ $# -gt 0 ]; then
  run_steps "$@"
  exit
fi

go_lane=(k8s rufio go-peers)
main_lane=(apt guest docker python ironic)
log="$QEMU_BMC_CACHE/bed-go-lane.log"
started=$(date +%s)
# The Go lane's lines carry a prefix so the two lanes can be told apart in one log.
(run_steps "${go_lane[@]}" 2>&1 | sed -u 's/^/[go lane] /' | tee "$log"; exit "${PIPESTATUS[0]}") &
go_pid=$!
main_status=0
run_steps "${main_lane[@]}" || main_status=$?
go_status=0
wait "$go_pid" || go_status=$?
[ "$main_status" -eq 0 ] || { echo "test bed: failed in: ${main_lane[*]}" >&2; exit "$main_status"; }
[ "$go_status" -eq 0 ] || { echo "test bed: failed in the Go lane: ${go_lane[*]} (log: $log)" >&2; exit "$go_status"; }
run_steps node
echo "== test bed: all steps done in $(($(date +%s) - started))s"
