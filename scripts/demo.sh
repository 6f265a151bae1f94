#!/usr/bin/env bash
# The main job: deploy stacks/appproxy.yml (Traefik reading etcd, etcd, the appproxy sidecar and a
# scaled socket.io demo) on this machine's Docker Swarm, and wait until the demo answers through
# Traefik.
#
#   bash scripts/demo.sh            # deploy (or update) and wait; prints where to open the demo
#   bash scripts/demo.sh down       # remove the stack (keeps the etcd volume; `down --volumes` drops it)
#
# On a fresh machine it installs Debian's Docker engine, starts it, and makes this machine a
# one-node Swarm. Where a registry answers, the stack uses the official images and only appproxy's
# own are built; where none does, scripts/build-images.sh builds every image from local material
# under names of the project's own (appproxy-local/...) and the stack is pointed at them: no image
# an operator has is ever retagged, replaced or removed. Settings: STACK (appproxy), HTTP_PORT (80),
# DEMO_REPLICAS (3), DOCKER_HOST, DEMO_ADDRESS (127.0.0.1: where the published port is reached),
# STORE (etcd; redis deploys stacks/redis-store.yml over the main file), APPPROXY_LOCAL_IMAGES=1
# (local builds, and no request to Docker Hub's registry to decide), and
# the stack file's own variables (see its header). etcd's secrets are made by scripts/stack-secrets.sh
# (files in APPPROXY_SECRETS_DIR, default /var/lib/appproxy/secrets); `down` leaves them in place.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/bounded.sh
source scripts/lib/bounded.sh

STACK=${STACK:-appproxy}
export HTTP_PORT=${HTTP_PORT:-80}
export DEMO_REPLICAS=${DEMO_REPLICAS:-3}
export DEMO_PREFIX=${DEMO_PREFIX:-/wsk}
WAIT_SECONDS=${WAIT_SECONDS:-300}
started=$(date +%s)

say() { printf '[%3ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

# A wedged engine accepts connections and never answers: a few seconds, then it counts as down.
engine_answers() { DOCKER_CALL_LIMIT=10 docker info >/dev/null 2>&1; }

ensure_engine() {
  if ! type -P docker >/dev/null 2>&1 || ! type -P dockerd >/dev/null 2>&1; then
    say "installing Docker (Debian's docker.io)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
  fi
  if engine_answers; then
    say "Docker engine: $(docker version --format '{{.Server.Version}}' 2>/dev/null) at ${DOCKER_HOST:-unix:///var/run/docker.sock}"
    return
  fi
  [ -z "${DOCKER_HOST:-}" ] || die "DOCKER_HOST=$DOCKER_HOST does not answer; start that engine or unset DOCKER_HOST"
  say "starting the Docker engine (log: /var/log/appproxy-dockerd.log)"
  # No init system is assumed: start dockerd in the background, as root.
  nohup dockerd --pidfile /run/appproxy-demo-dockerd.pid >/var/log/appproxy-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    engine_answers && { say "Docker engine up"; return; }
    sleep 1
  done
  tail -n 30 /var/log/appproxy-dockerd.log >&2 || true
  die "the Docker engine did not start; see /var/log/appproxy-dockerd.log"
}

ensure_swarm() {
  local state
  state=$(docker info --format '{{.Swarm.LocalNodeState}}')
  if [ "$state" = active ]; then
    [ "$(docker info --format '{{.Swarm.ControlAvailable}}')" = true ] || die "this node is a Swarm worker: run the demo on a manager"
    return
  fi
  say "making this machine a one-node Swarm"
  docker swarm init >/dev/null 2>&1 || docker swarm init --advertise-addr 127.0.0.1 >/dev/null
}

# Docker Hub's registry answers any HTTP status (401 without a token) when it can be reached at all.
registry_answers() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 https://registry-1.docker.io/v2/ 2>/dev/null || true)
  [ -n "$code" ] && [ "$code" != 000 ]
}

# Where the published port answers: this machine's loopback, unless the engine is elsewhere (the test
# suite runs the demo on an engine in a network namespace of its own and gives its address).
DEMO_ADDRESS=${DEMO_ADDRESS:-127.0.0.1}
demo_url() { echo "http://${DEMO_ADDRESS}:${HTTP_PORT}${DEMO_PREFIX}/"; }

wait_for_demo() {
  local deadline=$(( $(date +%s) + WAIT_SECONDS )) last=''
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if curl -fsS --max-time 2 "http://${DEMO_ADDRESS}:${HTTP_PORT}${DEMO_PREFIX}/health" >/dev/null 2>&1; then
      return 0
    fi
    local now
    now=$(DOCKER_CALL_LIMIT=30 docker stack services "$STACK" --format '{{.Name}} {{.Replicas}}' 2>/dev/null | sed "s/^${STACK}_//" | tr '\n' ' ')
    if [ "$now" != "$last" ]; then say "waiting: $now"; last=$now; fi
    sleep 2
  done
  docker stack ps "$STACK" --no-trunc --format '{{.Name}} {{.CurrentState}} {{.Error}}' | head -20 >&2 || true
  die "the demo did not answer at $(demo_url) within ${WAIT_SECONDS}s"
}

# An image rebuilt under the same tag (after a change to the code) leaves a service's spec as it was,
# so Swarm keeps its old tasks: each service whose running task has another image than its tag names
# now is rolled onto it (its update_config applies: one task at a time).
roll_rebuilt_images() {
  local service image want id have
  for service in $(DOCKER_CALL_LIMIT=30 docker stack services "$STACK" --format '{{.Name}}' 2>/dev/null); do
    image=$(DOCKER_CALL_LIMIT=30 docker service inspect --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}' "$service" 2>/dev/null) || continue
    want=$(DOCKER_CALL_LIMIT=30 docker image inspect --format '{{.Id}}' "${image%@*}" 2>/dev/null) || continue
    id=$(DOCKER_CALL_LIMIT=30 docker ps -q --filter "label=com.docker.swarm.service.name=$service" 2>/dev/null | head -n 1)
    [ -n "$id" ] || continue
    have=$(DOCKER_CALL_LIMIT=30 docker inspect --format '{{.Image}}' "$id" 2>/dev/null) || continue
    if [ "$have" != "$want" ]; then
      say "rolling ${service#"${STACK}"_} onto its rebuilt image"
      DOCKER_CALL_LIMIT=60 docker service update --force --detach --quiet "$service" >/dev/null
    fi
  done
}

up() {
  command -v curl >/dev/null 2>&1 || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null; }
  ensure_engine
  ensure_swarm
  # APPPROXY_LOCAL_IMAGES=1 decides without asking any registry (the test suite sets it).
  if [ "${APPPROXY_LOCAL_IMAGES:-0}" != 1 ] && registry_answers; then
    # The stack pulls the official images; only appproxy's own two are built, on top of the
    # official Node image, which docker build pulls.
    say "a registry answers: the stack uses the official images; building appproxy's own"
    docker build -q -t "${APPPROXY_IMAGE:-appproxy:latest}" . >/dev/null
    docker build -q -t "${DEMO_IMAGE:-appproxy-websocket-demo:latest}" examples/websocket-app >/dev/null
  else
    # No registry: every image from local material, under names of the project's own
    # (appproxy-local/...), never an official name; the stack is pointed at them.
    say "local images (APPPROXY_LOCAL_IMAGES=1, or no registry answers): building them from local material (scripts/build-images.sh)"
    local line
    while IFS= read -r line; do export "${line?}"; done < <(bash scripts/build-images.sh --print-env)
    bash scripts/build-images.sh
  fi
  # The read-only proxy mounts the engine's socket: the one this script talks to.
  case "${DOCKER_HOST:-}" in unix://*) export DOCKER_SOCKET=${DOCKER_SOCKET:-${DOCKER_HOST#unix://}} ;; esac
  # etcd runs with TLS and auth: its CA, certificates and passwords as Docker secrets (kept if present).
  say "etcd secrets (scripts/stack-secrets.sh)"
  bash scripts/stack-secrets.sh
  # Traefik's API answers the control network's fixed subnet alone (stacks/traefik/api.yml): a
  # stack deployed before that subnet was fixed keeps its old network, so it is removed once first.
  local subnet want=${CONTROL_SUBNET:-10.231.0.0/22}
  subnet=$(DOCKER_CALL_LIMIT=30 docker network inspect "${STACK}_control" --format '{{range .IPAM.Config}}{{.Subnet}}{{end}}' 2>/dev/null || true)
  if [ -n "$subnet" ] && [ "$subnet" != "$want" ]; then
    say "the stack's control network is $subnet, not $want: removing the stack once to recreate it"
    down
    for _ in $(seq 1 60); do
      DOCKER_CALL_LIMIT=30 docker network inspect "${STACK}_control" >/dev/null 2>&1 || break
      sleep 1
    done
  fi
  say "deploying stack '$STACK' (HTTP_PORT=$HTTP_PORT, DEMO_REPLICAS=$DEMO_REPLICAS)"
  local files=(-c stacks/appproxy.yml)
  # STORE=redis: Traefik reads Redis instead of etcd (stacks/redis-store.yml over the main file).
  [[ ${STORE:-etcd} == redis ]] && files+=(-c stacks/redis-store.yml)
  docker stack deploy --resolve-image never "${files[@]}" "$STACK" >/dev/null
  roll_rebuilt_images
  wait_for_demo
  say "ready: open $(demo_url)"
  echo "  Traefik's dashboard is not published: docker exec \$(docker ps -qf name=${STACK}_traefik | head -1) wget -qO- 127.0.0.1:8080/api/http/routers"
  echo "  scale the demo: docker service scale ${STACK}_chat=5     remove everything: bash scripts/demo.sh down"
}

down() {
  engine_answers || die "no Docker engine answers: nothing to remove"
  say "removing stack '$STACK'"
  docker stack rm "$STACK" >/dev/null 2>&1 || true
  for _ in $(seq 1 60); do
    [ -z "$(docker ps -aq --filter "label=com.docker.stack.namespace=$STACK")" ] && break
    sleep 1
  done
  # The demo network has a fixed name; it goes once its tasks are gone.
  for _ in $(seq 1 30); do
    docker network inspect appproxy-demo >/dev/null 2>&1 || break
    docker network rm appproxy-demo >/dev/null 2>&1 || sleep 1
  done
  if [ "${1:-}" = "--volumes" ]; then docker volume rm "${STACK}_etcd-data" "${STACK}_redis-store-data" >/dev/null 2>&1 || true; fi
  say "removed"
}

case "${1:-up}" in
  up) up ;;
  down) shift; down "${1:-}" ;;
  *) die "usage: bash scripts/demo.sh [up|down [--volumes]]" ;;
esac
