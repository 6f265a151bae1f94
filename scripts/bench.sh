#!/usr/bin/env bash
# Benchmarks (figures, not assertions): sets up the test environment with the project's own
# script, runs the benchmarks, writes bench/results/<name>.json, .md (and .svg where there is a
# chart), then bench/results/summary.md across all of them.
#   bash scripts/bench.sh                 all (about 25 minutes on 2 cores)
#   bash scripts/bench.sh route-live 50   one: route-live [samples] | burst [sizes...] | route-add [n1 n50] | scale [sizes...]
#   (also: npm run bench)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/bounded.sh
source scripts/lib/bounded.sh
bash scripts/test-env.sh install
[ -x node_modules/.bin/node ] || npm ci --no-audit --no-fund
export PATH="$PWD/node_modules/.bin:$PATH"
TEST_ENV_SMOKE=0 bash scripts/test-env.sh up
which=${1:-all}
[ $# -gt 0 ] && shift
case $which in
  route-live | burst | route-add | scale) bounded_run 5400 node "bench/$which.ts" "$@" ;;
  all)
    bounded_run 1800 node bench/route-live.ts 50
    bounded_run 3600 node bench/burst.ts 100 500
    bounded_run 3600 node bench/route-add.ts 100 500
    bounded_run 3600 node bench/scale.ts 1000 5000 10000
    ;;
  *) echo "bench: unknown benchmark '$which' (route-live, burst, route-add, scale, or nothing for all)" >&2; exit 2 ;;
esac
bounded_run 120 node bench/summary.ts
