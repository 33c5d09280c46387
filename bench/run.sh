#!/usr/bin/env bash
# One command for every benchmark: bash bench/run.sh [--quick] [redfish|ipmi|footprint|operator ...]
# Results: bench/results/<UTC stamp>[-quick][-parts].{json,md,svg}. See docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
node=node_modules/.bin/node
if [[ ! -x $node ]]; then
  echo "bench: $node missing; run npm ci first" >&2
  exit 2
fi
command -v git >/dev/null || { echo "bench: git missing" >&2; exit 2; }
# Each part checks its own tools (ipmitool, ipmi_sim, openssl, the Python venv, the k8s binaries) and fails alone,
# naming the bed step that installs what is missing.
exec "$node" bench/main.ts "$@"
