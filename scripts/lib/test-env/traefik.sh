# shellcheck shell=bash
# Part of scripts/test-env.sh, which sources it after reading scripts/lib/test-env.conf and setting
# its variables; functions only, run by the commands there.
#
# The environment's Traefik instances (one per provider), each in a work dir of its own with a
# copy of the project's plugin.

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
  local provider_flags=()
  case $name in
    traefik-etcd)
      provider_flags=(--providers.etcd.endpoints="$ETCD_HOST:$ETCD_CLIENT_PORT" --providers.etcd.rootKey=traefik)
      ;;
    traefik-docker)
      provider_flags=(--providers.docker.endpoint="$DOCKER_HOST_URL" --providers.docker.exposedByDefault=false
        --providers.docker.watch=true)
      ;;
    traefik-redis)
      provider_flags=(--providers.redis.endpoints="$REDIS_HOST:$REDIS_PORT" --providers.redis.rootKey=traefik)
      ;;
    traefik-swarm)
      # Reads Swarm services (their deploy labels) while the test engine is a Swarm manager, which
      # the Swarm tests make it; until then it logs that the engine is no manager and retries.
      provider_flags=(--providers.swarm.endpoint="$DOCKER_HOST_URL" --providers.swarm.exposedByDefault=false
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
    "${provider_flags[@]}"
  pid=$LAST_PID
  if ! wait_started "$pid" 30 traefik_api_ok "$api"; then
    fail_start "$name" "$log" "$out"
  fi
  say "$name: up, api http://127.0.0.1:$api, web :$web, websecure :$websecure, tcp :$tcp, udp :$udp/udp (pid $pid)"
}
