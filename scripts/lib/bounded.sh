# Sourced by the project's scripts: the commands that can wait on something else (an engine, a
# registry, a package mirror) get a limit, so that a wedged engine ends a script with an error
# instead of a wait without end. `timeout` exits 124 when the limit is hit; the caller's `set -e`
# (or its own check) turns that into a failure, and bounded_run names the command.
DOCKER_CALL_LIMIT=${DOCKER_CALL_LIMIT:-900}

bounded_run() { # LIMIT CMD...
  local limit=$1 status=0
  shift
  timeout -k 10 "$limit" "$@" || status=$?
  if ((status == 124 || status == 137)); then
    printf 'limit: "%s" got no answer within %ss\n' "$*" "$limit" >&2
  fi
  return "$status"
}

# `timeout` is a program: it runs the real binaries from PATH, never these functions. Scripts that
# source this find a binary with `type -P`, not `command -v` (which would name the function).
docker() { bounded_run "$DOCKER_CALL_LIMIT" docker "$@"; }
apt-get() { bounded_run 1800 apt-get "$@"; }
npm() { bounded_run 1800 npm "$@"; }
