#!/usr/bin/env bash
# The project's one test command (`npm test`, and what .ci/run calls):
#   1. installs the test bed (test/env/install.sh; cached, fast when warm)
#   2. typecheck, lint
#   3. every vitest suite, one run each, junit into test-results/<suite>.xml
#   4. closes with the plain line "N passed, N failed" and exits non-zero on any failure.
#
# Environment:
#   QEMU_BMC_CACHE=dir        where the bed caches its results (default ~/.cache/qemu-bmc)
#   QEMU_BMC_PARTIAL_BED=1    while the bed is being built: warn loudly about missing step scripts instead of failing
#   QEMU_BMC_SUITES="a b"     run only these suites (default: all of them)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Node 24 from node_modules, even when this script is run directly rather than through npm.
export PATH="$PWD/node_modules/.bin:$PATH"
if [ ! -x node_modules/.bin/vitest ]; then
  echo "run-all: node_modules missing; run: npm ci" >&2
  exit 1
fi

results=test-results
all_suites=(unit integration browser container cluster e2e)
read -r -a suites <<<"${QEMU_BMC_SUITES:-${all_suites[*]}}"
for suite in "${suites[@]}"; do
  [[ " ${all_suites[*]} " == *" $suite "* ]] || { echo "run-all: unknown suite '$suite' (known: ${all_suites[*]})" >&2; exit 2; }
done
[ ${#suites[@]} -gt 0 ] || { echo "run-all: QEMU_BMC_SUITES names no suite" >&2; exit 2; }
# Kept in step with test/env/install.sh; only used to tolerate missing steps in partial mode.
bed_steps=(apt guest docker python ironic go-peers k8s rufio node)

failed_phases=()
suite_results=()
run_started=$(date +%s)

# phase NAME COMMAND...: runs a command with a header and its duration; returns its exit status.
phase() {
  local name="$1" started status
  shift
  started=$(date +%s)
  echo
  echo "=== $name: $*"
  "$@"
  status=$?
  echo "=== $name: $([ "$status" -eq 0 ] && echo ok || echo "FAILED (exit $status)") in $(($(date +%s) - started))s"
  return "$status"
}

install_bed() {
  if [ "${QEMU_BMC_PARTIAL_BED:-}" != 1 ]; then
    bash test/env/install.sh
    return
  fi
  local present=() step
  for step in "${bed_steps[@]}"; do
    if [ -f "test/env/$step.sh" ]; then
      present+=("$step")
    else
      echo "!!!!!!!! WARNING: test bed step '$step' has no script (test/env/$step.sh); its suites will fail !!!!!!!!" >&2
    fi
  done
  bash test/env/install.sh "${present[@]}"
}

rm -rf "$results"
mkdir -p "$results"

phase bed install_bed || failed_phases+=(bed)
phase typecheck npm run --silent typecheck || failed_phases+=(typecheck)
phase lint npm run --silent lint || failed_phases+=(lint)

for suite in "${suites[@]}"; do
  phase "suite $suite" vitest run --project "$suite" \
    --reporter=default --reporter=junit --outputFile.junit="$results/$suite.xml"
  suite_results+=("--suite" "$suite=$?")
done

summary_args=(--dir "$results" "${suite_results[@]}")
for phase_name in "${failed_phases[@]}"; do summary_args+=(--failed-phase "$phase_name"); done
echo
echo "=== total: $(($(date +%s) - run_started))s"
# Last: the summary, whose final line is "N passed, N failed".
node test/support/junit-summary.ts "${summary_args[@]}"
