# shellcheck shell=bash
# Part of scripts/test-env.sh, which sources it after reading scripts/lib/test-env.conf and setting
# its variables; functions only, run by the commands there.
#
# Processes of the test environment, known only by the pids it recorded (with a check of the
# executable against pid reuse), and the ports they need.

# Processes, identified only by the pids we recorded (plus a check of the executable, against pid reuse).

read_pid() {
  local f=$1 pid
  [[ -s $f ]] || return 1
  pid=$(tr -dc '0-9' <"$f")
  [[ -n $pid ]] || return 1
  printf '%s' "$pid"
}

# proc_running PID: the process exists and is not a zombie. (On the sandbox machines pid 1 does not
# reap orphans, so a daemon that exited can linger as a zombie in /proc.)
proc_running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z && ${stat:0:1} != X ]]
}

proc_gone() { ! proc_running "$1"; }

# wait_started PID SECONDS CMD...: like wait_until, but gives up at once when PID has exited.
wait_started() {
  local pid=$1 limit=$2
  shift 2
  local deadline=$(($(now_ms) + limit * 1000))
  while (($(now_ms) < deadline)); do
    proc_running "$pid" || return 1
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  proc_running "$pid" && "$@" >/dev/null 2>&1
}

# pid_is PID EXE_BASENAME: the pid is a live (not zombie) process running that executable.
pid_is() {
  local pid=$1 exe=$2 path
  proc_running "$pid" || return 1
  path=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  path=${path% (deleted)}
  [[ ${path##*/} == "$exe" ]]
}

# alive PIDFILE EXE: prints the pid when the process recorded in PIDFILE is alive.
alive() {
  local pid
  pid=$(read_pid "$1") || return 1
  pid_is "$pid" "$2" || return 1
  printf '%s' "$pid"
}

# start_daemon PIDFILE LOG CMD...: start CMD in its own session, detached, and record its pid.
# setsid execs in place (the background child is not a group leader), so $! is the daemon's pid.
start_daemon() {
  local pidfile=$1 log=$2
  shift 2
  printf '\n==== %s starting: %s\n' "$(date -Is)" "$*" >>"$log"
  # 9>&-: the daemon must not inherit our lock (see lock()).
  setsid "$@" </dev/null >>"$log" 2>&1 9>&- &
  local pid=$!
  if [[ -n $pidfile ]]; then printf '%s\n' "$pid" >"$pidfile"; fi
  STARTED_ANY=1
  LAST_PID=$pid
}

# stop_pid PIDFILE EXE NAME TIMEOUT: SIGTERM the recorded pid, wait, then SIGKILL if it lingers.
stop_pid() {
  local pidfile=$1 exe=$2 name=$3 timeout=$4 pid
  if ! pid=$(alive "$pidfile" "$exe"); then
    say "$name: not running"
    rm -f "$pidfile"
    return 0
  fi
  say "$name: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_until "$timeout" proc_gone "$pid"; then
    warn "$name (pid $pid) did not exit within ${timeout}s of SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_until 10 proc_gone "$pid" ||
      die "$name (pid $pid) is still alive after SIGKILL"
  fi
  rm -f "$pidfile"
  say "$name: stopped"
}

# port_busy PROTO PORT: something listens on PORT (tcp or udp) on any address.
port_busy() {
  local flag=-Hltn
  [[ $1 == udp ]] && flag=-Hlun
  [[ -n $(ss "$flag" "( sport = :$2 )" 2>/dev/null) ]]
}

# fail_start NAME LOG...: print the last 30 lines of each log and exit non-zero.
fail_start() {
  local name=$1
  shift
  local log
  for log in "$@"; do
    if [[ -f $log ]]; then
      printf -- '---- last 30 lines of %s ----\n' "$log" >&2
      tail -n 30 "$log" >&2
    fi
  done
  die "$name failed to start (logs: $*)"
}

ensure_ports_free() {
  local name=$1 spec
  shift
  for spec in "$@"; do
    if port_busy "${spec%%:*}" "${spec#*:}"; then
      ss -Hltunp "( sport = :${spec#*:} )" >&2 || true
      die "$name: port ${spec#*:}/${spec%%:*} is already in use by another process; not starting over it"
    fi
  done
}
