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
for tool in ipmitool ipmi_sim openssl git; do
  command -v "$tool" >/dev/null || { echo "bench: $tool missing; run: npm run bed -- apt" >&2; exit 2; }
done
exec "$node" bench/main.ts "$@"
