#!/usr/bin/env bash
# The secrets of the stack's secured etcd, as Docker secrets on the Swarm `docker` talks to:
# a CA, etcd's server certificate (also its peer certificate in the 3-member variant), client
# certificates for root, appproxy and Traefik (Traefik is authenticated by its certificate's CN,
# with no password), and the root and appproxy passwords. Missing material is generated (openssl);
# existing secrets are left as they are (Docker secrets cannot change: remove the stack and the
# secret to replace one).
#
#   bash scripts/stack-secrets.sh              # create what is missing
#   bash scripts/stack-secrets.sh --files DIR  # only write the files into DIR (no Docker)
#   bash scripts/stack-secrets.sh --list       # the secret names, one a line
#
# The files are kept in APPPROXY_SECRETS_DIR (default /var/lib/appproxy/secrets, mode 0700), so
# that a second run (or an operator's etcdctl) uses the same CA and passwords. Secret names start
# with SECRET_PREFIX (default appproxy), as the stack file expects.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/bounded.sh
source scripts/lib/bounded.sh

PREFIX=${SECRET_PREFIX:-appproxy}
DIR=${APPPROXY_SECRETS_DIR:-/var/lib/appproxy/secrets}
# Every secret, as <name>:<file in DIR>. The stack file's `secrets:` use exactly these names.
SECRETS=(
  etcd_ca:ca.crt
  etcd_server_cert:server.crt
  etcd_server_key:server.key
  etcd_root_cert:root.crt
  etcd_root_key:root.key
  etcd_root_password:root.password
  etcd_appproxy_cert:appproxy.crt
  etcd_appproxy_key:appproxy.key
  etcd_appproxy_password:appproxy.password
  etcd_traefik_cert:traefik.crt
  etcd_traefik_key:traefik.key
  redis_appproxy_password:redis-appproxy.password
)
# Names etcd is reached by: the one-member stack's service, the 3-member variant's, and loopback
# (health checks inside the etcd containers).
SERVER_NAMES="DNS:etcd,DNS:tasks.etcd,DNS:etcd-1,DNS:etcd-2,DNS:etcd-3,DNS:tasks.etcd-1,DNS:tasks.etcd-2,DNS:tasks.etcd-3,DNS:localhost,IP:127.0.0.1"

die() { printf 'stack-secrets: %s\n' "$*" >&2; exit 1; }

ensure_openssl() {
  type -P openssl >/dev/null 2>&1 && return
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
}

# A P-256 key and a certificate signed by the CA: CN, extended key usage, optional names.
issue() { # NAME CN USAGE [SAN]
  local name=$1 cn=$2 usage=$3 san=${4:-}
  [ -s "$DIR/$name.crt" ] && [ -s "$DIR/$name.key" ] && return
  local ext
  ext=$(mktemp)
  printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n' "$usage" >"$ext"
  [ -z "$san" ] || printf 'subjectAltName=%s\n' "$san" >>"$ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$cn" -keyout "$DIR/$name.key" -out "$DIR/$name.csr" 2>/dev/null
  openssl x509 -req -in "$DIR/$name.csr" -CA "$DIR/ca.crt" -CAkey "$DIR/ca.key" -CAcreateserial -days 825 -sha256 -extfile "$ext" -out "$DIR/$name.crt" 2>/dev/null
  rm -f "$DIR/$name.csr" "$ext"
}

write_files() {
  ensure_openssl
  mkdir -p "$DIR"
  chmod 700 "$DIR"
  umask 077
  if [ ! -s "$DIR/ca.crt" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -sha256 -subj "/CN=appproxy etcd CA" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -keyout "$DIR/ca.key" -out "$DIR/ca.crt" 2>/dev/null
  fi
  issue server etcd serverAuth,clientAuth "$SERVER_NAMES"
  # The CN is the etcd user name (etcd --client-cert-auth).
  issue root root clientAuth
  issue appproxy appproxy clientAuth
  issue traefik traefik clientAuth
  for user in root appproxy redis-appproxy; do
    [ -s "$DIR/$user.password" ] || openssl rand -hex 24 >"$DIR/$user.password"
  done
}

create_secrets() {
  local entry name file created=0
  for entry in "${SECRETS[@]}"; do
    name="${PREFIX}_${entry%%:*}"
    file="$DIR/${entry#*:}"
    if docker secret inspect "$name" >/dev/null 2>&1; then continue; fi
    docker secret create --label appproxy.secret=true "$name" "$file" >/dev/null
    created=$((created + 1))
  done
  printf 'stack-secrets: %s secrets created, %s already there (files in %s)\n' "$created" "$(( ${#SECRETS[@]} - created ))" "$DIR"
}

case "${1:-}" in
  --list) for entry in "${SECRETS[@]}"; do echo "${PREFIX}_${entry%%:*}"; done ;;
  --files) [ -n "${2:-}" ] || die "usage: --files DIR"; DIR=$2; write_files ;;
  '') write_files; create_secrets ;;
  *) die "usage: bash scripts/stack-secrets.sh [--files DIR | --list]" ;;
esac
