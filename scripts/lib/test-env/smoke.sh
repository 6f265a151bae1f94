# shellcheck shell=bash
# Part of scripts/test-env.sh, which sources it after reading scripts/lib/test-env.conf and setting
# its variables; functions only, run by the commands there.
#
# `smoke`: proves that the pieces work together.

# smoke: prove the pieces work together (only loopback and our own containers are contacted)

smoke_cleanup() {
  local prefix
  dk rm -f "$CHECK_NAME" >/dev/null 2>&1 || true
  for prefix in "routers/$CHECK_NAME" "services/$CHECK_NAME" "middlewares/$CHECK_NAME-stamp"; do
    timeout 5 etcdctl --endpoints="$ETCD_HOST:$ETCD_CLIENT_PORT" del --prefix "traefik/http/$prefix/" >/dev/null 2>&1 || true
  done
}

# smoke_fail MSG: the check's container and keys removed, then the error.
smoke_fail() {
  smoke_cleanup
  die "smoke: $*"
}

# sm MSG: a smoke progress line with the time since the smoke began (t0 of cmd_smoke).
sm() { say "smoke: $* (+$(($(now_ms) - t0)) ms)"; }

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

# smoke_traefik NAME API_PORT WEB_PORT PROVIDER SOURCE: router $CHECK_NAME@PROVIDER enabled in
# NAME's API, and a request for $CHECK_NAME.PROVIDER.test through its web entry point reaches the container.
smoke_traefik() {
  local name=$1 api=$2 web=$3 provider=$4 source=$5
  if ! wait_until 15 router_enabled "$api" "$CHECK_NAME@$provider"; then
    tail -n 30 "$LOGS/$name.log" >&2 || true
    smoke_fail "$name did not pick up router $CHECK_NAME@$provider $source"
  fi
  wait_until 10 through_traefik "$web" "$CHECK_NAME.$provider.test" ||
    smoke_fail "request through $name (127.0.0.1:$web) did not reach the container"
  stamped_by_plugin "$web" "$CHECK_NAME.$provider.test" ||
    smoke_fail "the response through $name (127.0.0.1:$web) lacks the header of the plugin $PLUGIN_KEY (see $LOGS/$name.log)"
  sm "$name router $CHECK_NAME@$provider enabled, web :$web -> container ok, plugin $PLUGIN_KEY ran"
}

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
  [[ -n $ip ]] || smoke_fail "container has no IP on the default bridge"
  if ! wait_until 10 bash -c "[[ \$(curl -fsS --max-time 1 http://$ip:8080/) == $CHECK_NAME ]]"; then
    curl -sS -v --max-time 2 "http://$ip:8080/" >&2 || true
    smoke_fail "httpd at http://$ip:8080/ on node 1 ($N_NETNS, bridge $N_BRIDGE, routed via $N_ADDR) does not answer from the host"
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
    smoke_fail "etcd transaction failed"
  }
  read -r name api web _ <<<"$TRAEFIK_ETCD"
  smoke_traefik "$name" "$api" "$web" etcd "from etcd"
  smoke_cleanup
  sm "ok"
}
