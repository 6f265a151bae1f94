# shellcheck shell=bash
# Part of scripts/test-env.sh, which sources it after reading scripts/lib/test-env.conf and setting
# its variables; functions only, run by the commands there.
#
# The nodes: the host bridge that links them, each node's network and UTS namespaces, its
# containerd, dockerd and busybox image; and their teardown.

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
  # The engine is started next (ensure_dockerd) and needs its containerd back first: without this,
  # a heal of a wedged engine left dockerd waiting for a containerd that nobody started.
  ensure_containerd
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
  # Docker's layer cache decides what is up to date: an unchanged context builds in about a second.
  local context
  context=$(mktemp -d "$STATE/busybox-context.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$context'; trap - RETURN" RETURN
  cp "$REPO/images/test-busybox/Dockerfile" /bin/busybox "$context/"
  cp -r "$REPO/images/common/etc" "$context/etc"
  local before after
  before=$(dk image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
  local out
  # Kept quiet when it works: Engine 20.10's legacy builder prints a BuildKit notice on every build.
  out=$(dk build -q -t "$IMAGE" "$context" 2>&1) ||
    die "node$N_INDEX image: docker build of $IMAGE failed (images/test-busybox/Dockerfile): $out"
  after=$(dk image inspect -f '{{.Id}}' "$IMAGE")
  if [[ $before == "$after" ]]; then
    say "node$N_INDEX image: $IMAGE up to date"
  else
    dk run --rm --network none "$IMAGE" sh -c 'for a in sh sleep httpd true wget nc cat echo; do
      [ -L "/bin/$a" ] || { echo "no $a applet"; exit 1; }; done' || die "node$N_INDEX image: $IMAGE lacks an applet the tests use"
    [[ -z $before ]] || dk image rm "$before" >/dev/null 2>&1 || true
    STARTED_ANY=1
    say "node$N_INDEX image: $IMAGE built"
  fi
}

# ensure_node I: node I's namespaces, containerd, engine and image.
ensure_node() {
  node_vars "$1"
  ensure_namespaces
  ensure_containerd
  ensure_dockerd
  ensure_image
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
