#!/usr/bin/env bash
# Benchmarks (figures, not assertions): sets up the test environment with the project's own
# script, runs the benchmarks, writes bench/results/<name>.json, .md (and .svg where there is a
# chart), then bench/results/summary.md across all of them.
#   bash scripts/bench.sh                 all (about 25 minutes on 2 cores)
#   bash scripts/bench.sh route-live 50   one: route-live [samples] | route-enabled [samples fleets...] | burst [sizes...] | route-add [n1 n50] | scale [sizes...] | stores [n1 n50 sizes...] | steady-rss [sizes...] | traefik-side [sizes...] [--samples k] [--churn-seconds s] | first-pass-parts [workloads runs]
#   (also: npm run bench)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/bounded.sh
source scripts/lib/bounded.sh
bash scripts/test-env.sh install
[ -x node_modules/.bin/node ] || npm ci --no-audit --no-fund
export PATH="$PWD/node_modules/.bin:$PATH"
TEST_ENV_SMOKE=0 bash scripts/test-env.sh up
# The engine before the incremental rewrite, for side-by-side figures: a worktree of that commit
# (its own bench/scale.ts, against the test environment's etcd at etcd's default 128 operations a
# transaction; this checkout's runs on an etcd of its own as the stacks run it).
OLD_ENGINE_COMMIT=f667157
old_engine() {
  local dir=/tmp/appproxy-old-engine
  if [ ! -d "$dir" ]; then
    git worktree add -q --detach "$dir" "$OLD_ENGINE_COMMIT" >&2
    ln -s "$PWD/node_modules" "$dir/node_modules"
  fi
  # Its benchmark checks for the test environment's Docker engine (which it does not use) where the
  # environment had one engine; it now has one a node: point the check at the first node's.
  sed -i "s|'/run/appproxy-test/docker.sock'|'/run/appproxy-test/node1/docker.sock'|" "$dir/test/support/env.ts"
  printf '%s' "$dir"
}
which=${1:-all}
[ $# -gt 0 ] && shift
case $which in
  route-live | route-enabled | burst | route-add | stores | steady-rss | traefik-side | first-pass-parts) bounded_run 5400 node "bench/$which.ts" "$@" ;;
  scale) bounded_run 7200 node bench/scale.ts "$@" --old "$(old_engine)" ;;
  all)
    bounded_run 1800 node bench/route-live.ts 50
    bounded_run 3600 node bench/burst.ts 100 500
    bounded_run 3600 node bench/route-add.ts 100 500
    bounded_run 1800 node bench/route-enabled.ts 20 0 100 250
    bounded_run 7200 node bench/scale.ts 100 1000 10000 20000 50000 --old "$(old_engine)" --memory-limits 256M,512M,1G
    bounded_run 600 node bench/first-pass-parts.ts 10000 9
    bounded_run 3600 node bench/stores.ts 100 200 1000 10000
    bounded_run 1800 node bench/steady-rss.ts 0 50 500
    bounded_run 3600 node bench/traefik-side.ts 1000 10000
    ;;
  *) echo "bench: unknown benchmark '$which' (route-live, route-enabled, burst, route-add, scale, stores, steady-rss, traefik-side, first-pass-parts, or nothing for all)" >&2; exit 2 ;;
esac
bounded_run 120 node bench/summary.ts
