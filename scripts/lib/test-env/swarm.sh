# shellcheck shell=bash
# Part of scripts/test-env.sh, which sources it after reading scripts/lib/test-env.conf and setting
# its variables; functions only, run by the commands there.
#
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

# ---------------------------------------------------------------------------------------------
# Faults of one node, for the cluster's tests: a partition (cut, heal) and the node lost at once
# (kill, then revive). Both act on the host's end of the node's veth, so that the node's packets
# go nowhere (no reset, no unreachable: what a pulled cable or a dead machine looks like).

# node_cut I / node_heal I: node I's link down / up. Its processes run on, cut off.
node_cut() {
  node_vars "$1"
  ip link set "$N_VETH" down || die "node $1: could not set $N_VETH down"
  say "node$1 ($N_NAME): link down (partitioned)"
}
node_heal() {
  node_vars "$1"
  ip link set "$N_VETH" master "$LINK_BRIDGE" up || die "node $1: could not set $N_VETH up"
  say "node$1 ($N_NAME): link up"
}

# descendants PID...: the PIDs and every process below them.
descendants() {
  ps -e -o pid=,ppid= | awk -v roots="$*" '
    BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
    { parent[$1] = $2 }
    END {
      do {
        grew = 0
        for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; grew = 1 }
      } while (grew)
      for (p in keep) print p
    }'
}

# node_kill I: node I lost at once: its link down, then dockerd, containerd, the shims and every
# process of their containers killed with SIGKILL together. Its data root stays (node_revive).
node_kill() {
  node_vars "$1"
  ip link set "$N_VETH" down || true
  local roots=() pid
  pid=$(read_pid "$N_DOCKER_PID") && proc_running "$pid" && roots+=("$pid")
  pid=$(read_pid "$N_CTRD_PID") && proc_running "$pid" && roots+=("$pid")
  mapfile -t -O "${#roots[@]}" roots < <(our_shims)
  ((${#roots[@]} > 0)) || die "node $1: no process of it runs"
  local victims
  victims=$(descendants "${roots[@]}" | tr '\n' ' ')
  # shellcheck disable=SC2086
  kill -KILL $victims 2>/dev/null || true
  say "node$1 ($N_NAME): link down and $(wc -w <<<"$victims") processes killed"
}

# node_revive I: node I back after node_kill: link up, containerd and dockerd started on its data
# root (the engine rejoins its Swarm by itself).
node_revive() {
  node_heal "$1"
  ensure_node "$1"
  link_socket_by_host
}
