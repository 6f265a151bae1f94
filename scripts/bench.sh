#!/usr/bin/env bash
# Benchmarks (figures, not assertions): sets up the test environment with the project's own
# script, runs each benchmark, writes bench/results/*.json, *.md and *.svg.
#   bash scripts/bench.sh [samples]      (also: npm run bench)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-env.sh install
[ -x node_modules/.bin/node ] || npm ci --no-audit --no-fund
export PATH="$PWD/node_modules/.bin:$PATH"
bash scripts/test-env.sh up
node bench/route-live.ts "${1:-50}"
