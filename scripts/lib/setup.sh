# Shared by scripts/demo.sh and scripts/test.sh (sourced, not run): provisions what a fresh clone
# on a fresh machine lacks, each step idempotent and announced before it installs anything.
# shellcheck shell=bash

export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

setup_log() { printf '[setup] %s\n' "$*"; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Node >= 24.9 first on PATH (scripts/ensure-node.sh installs it from the npm registry when older).
setup_node() {
  bash scripts/ensure-node.sh
  export PATH="/usr/local/bin:$PATH"
  hash -r
  setup_log "node $(node --version), npm $(npm --version 2>/dev/null)"
}

# `npm ci`, unless node_modules already matches package-lock.json (npm's own copy is not older).
setup_dependencies() {
  node scripts/complete-lockfile.mjs
  if [ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ]; then
    setup_log "node_modules matches package-lock.json; npm ci not needed"
    return
  fi
  setup_log "installing the npm dependencies of package-lock.json (npm ci)"
  npm ci --no-fund --no-audit
}

# Debian packages for the commands named, when missing: `setup_apt_tools openssl:openssl nc:netcat-openbsd`.
setup_apt_tools() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
  done
  apt_install "${missing[@]}"
}

# Debian packages for the Python 3 modules named, when `python3` cannot import them (run it after
# setup_apt_tools has python3): `setup_python_modules jsonschema:python3-jsonschema`.
setup_python_modules() {
  local missing=() pair
  for pair in "$@"; do
    python3 -c "import ${pair%%:*}" 2>/dev/null || missing+=("${pair#*:}")
  done
  apt_install "${missing[@]}" || return 1
  for pair in "$@"; do
    if ! python3 -c "import ${pair%%:*}" 2>/dev/null; then
      setup_log "python3 ($(command -v python3)) still cannot import ${pair%%:*}: Debian's package serves /usr/bin/python3; install it for this python3 (pip install ${pair%%:*})"
      return 1
    fi
  done
}

# Installs the Debian packages named (none: nothing to do); needs root.
apt_install() {
  if (($# == 0)); then
    return
  fi
  if ! is_root; then
    setup_log "missing $*: install them (apt-get install $*) or run as root"
    return 1
  fi
  setup_log "installing $* (apt-get)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# True when `docker compose` talks to an engine now.
docker_ready() {
  docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1
}

# A Docker engine with compose v2 and the base image, provisioned when this machine can (root and apt).
setup_docker() {
  if ! is_root && ! docker_ready; then
    setup_log "no Docker engine answers and provisioning one needs root; run as root or start Docker yourself"
    return 1
  fi
  bash scripts/provision-docker.sh
}
