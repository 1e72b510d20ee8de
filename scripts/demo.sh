#!/usr/bin/env bash
# The demo in one command on a fresh clone: installs what is missing (Node 24, the npm
# dependencies, and where it can a Docker engine with compose v2), saying what before it does,
# then runs the compose demo, or the local two-process demo when no engine is there or can be
# provided. Idempotent: on a machine that has everything it installs nothing.
#   bash scripts/demo.sh               # the compose demo when possible, else the local one
#   DEMO=local bash scripts/demo.sh    # the local two-process demo (no Docker)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/setup.sh
source scripts/lib/setup.sh

setup_node
setup_dependencies
if [ "${DEMO:-}" != local ] && { docker_ready || { is_root && command -v apt-get >/dev/null; }; }; then
  setup_docker
  setup_log "running the compose demo: docker compose up --build --abort-on-container-exit --exit-code-from client-worker"
  exec docker compose up --build --abort-on-container-exit --exit-code-from client-worker
fi
if [ "${DEMO:-}" = local ]; then
  setup_log "running the local two-process demo (npm run demo), as DEMO=local asks"
else
  setup_log "running the local two-process demo (npm run demo): no Docker engine answers, and none can be installed here without root and apt"
fi
exec npm run demo
