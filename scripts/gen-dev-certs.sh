#!/usr/bin/env bash
# Creates a throwaway development CA, a server certificate and a client certificate
# for mutual TLS between the services (docker-compose.tls.yml, the e2e tests).
#   bash scripts/gen-dev-certs.sh [DIR]        DIR defaults to ./certs (git- and docker-ignored)
#   FORCE=1 bash scripts/gen-dev-certs.sh      replaces whatever is there
# Idempotent: when every file is there, the certificates chain to the CA and none expires
# within a day, it changes nothing. Needs `openssl` on the host (not in the runtime image).
#
# Files: ca.crt, ca.key (0600: never mounted anywhere), server.crt/.key (CN echo-server;
# SANs echo-server, localhost, 127.0.0.1, ::1; serverAuth and clientAuth, because the
# server's healthcheck presents it as its client certificate), client.crt/.key (CN
# client-worker, clientAuth). The leaf keys are 0644 so that the containers' `node` user
# (uid 1000) can read the bind-mounted files: they are development keys, never secrets.
set -euo pipefail

DIR="${1:-$(cd "$(dirname "$0")/.." && pwd)/certs}"
DAYS="${CERT_DAYS:-30}"
CA_NAME="${CA_NAME:-echo-pair dev CA}"

log() { printf '[gen-dev-certs] %s\n' "$*"; }

if ! command -v openssl >/dev/null 2>&1; then
  log "openssl is not installed; install it (apt-get install openssl) and run this again"
  exit 1
fi

FILES=(ca.crt ca.key server.crt server.key client.crt client.key)

up_to_date() {
  local file leaf
  for file in "${FILES[@]}"; do
    [ -s "$DIR/$file" ] || return 1
  done
  for leaf in ca server client; do
    openssl x509 -checkend 86400 -noout -in "$DIR/$leaf.crt" >/dev/null 2>&1 || return 1
  done
  openssl verify -CAfile "$DIR/ca.crt" "$DIR/server.crt" "$DIR/client.crt" >/dev/null 2>&1
}

describe() {
  local leaf
  for leaf in ca server client; do
    printf '  %-11s %s; expires %s\n' "$leaf.crt" \
      "$(openssl x509 -noout -subject -nameopt oneline -in "$DIR/$leaf.crt" | sed 's/^subject=//')" \
      "$(openssl x509 -noout -enddate -in "$DIR/$leaf.crt" | sed 's/^notAfter=//')"
  done
}

if [ -z "${FORCE:-}" ] && up_to_date; then
  log "certificates in $DIR are valid for at least a day; nothing to do (FORCE=1 replaces them)"
  describe
  exit 0
fi

mkdir -p "$DIR"
chmod 0755 "$DIR"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
serial() { printf '0x%s' "$(openssl rand -hex 16)"; }

# The CA: new every time, so that certificates of an earlier run no longer verify.
new_key "$work/ca.key"
openssl req -x509 -new -key "$work/ca.key" -sha256 -days "$DAYS" -subj "/CN=$CA_NAME" \
  -addext 'basicConstraints=critical,CA:TRUE,pathlen:0' \
  -addext 'keyUsage=critical,keyCertSign,cRLSign' \
  -out "$work/ca.crt"

# issue NAME CN EXTENSIONS: a key and a certificate signed by the CA.
issue() {
  local name="$1" cn="$2" extensions="$3"
  new_key "$work/$name.key"
  openssl req -new -key "$work/$name.key" -subj "/CN=$cn" -out "$work/$name.csr"
  printf '%s\n' "$extensions" >"$work/$name.ext"
  openssl x509 -req -in "$work/$name.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -set_serial "$(serial)" \
    -sha256 -days "$DAYS" -extfile "$work/$name.ext" -out "$work/$name.crt" 2>/dev/null
}

issue server echo-server "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:echo-server,DNS:localhost,IP:127.0.0.1,IP:::1"
issue client client-worker "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectAltName=DNS:client-worker"

openssl verify -CAfile "$work/ca.crt" "$work/server.crt" "$work/client.crt" >/dev/null
for file in "${FILES[@]}"; do
  install -m 0644 "$work/$file" "$DIR/$file"
done
chmod 0600 "$DIR/ca.key"
log "created a throwaway CA and two certificates in $DIR (valid $DAYS days):"
describe
