# shellcheck shell=bash
# Part of scripts/test-env.sh, which sources it after reading scripts/lib/test-env.conf and setting
# its variables; functions only, run by the commands there.
#
# etcd and Redis on the host's loopback, and the root key Traefik's etcd provider needs.

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
