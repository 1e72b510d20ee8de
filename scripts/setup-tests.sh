#!/usr/bin/env bash
# Installs what `npm test` needs on a fresh clone, saying what before it does: Node 24, the npm
# dependencies, a Docker engine with compose v2 and the base image, openssl, python3, nc,
# Python's jsonschema and kubectl. Idempotent: on a machine that has everything it installs
# nothing. Needs root for what it installs with apt. Used by scripts/test.sh and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/setup.sh
source scripts/lib/setup.sh

setup_node
setup_dependencies
# The container suites need an engine with compose v2 and node:24-bookworm-slim.
setup_docker
# openssl makes the mutual-TLS suites' throwaway certificates; python3 and nc are the tutorials' clients.
setup_apt_tools openssl:openssl python3:python3 nc:netcat-openbsd
# The Python contract client (test/python-client) validates replies with jsonschema.
setup_python_modules jsonschema:python3-jsonschema
# The deployment-manifest suite renders deploy/k8s with `kubectl kustomize` (kubectl >= 1.32, from Debian trixie pinned low).
bash scripts/provision-kubectl.sh
