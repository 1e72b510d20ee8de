#!/usr/bin/env bash
# Provisions `kubectl` >= 1.32 for the static Kubernetes checks (test/deploy-manifests.e2e-spec.ts
# renders deploy/k8s with `kubectl kustomize`, which works offline: no cluster is needed).
# Debian bookworm's kubernetes-client is 1.20, too old for the kustomize the manifests use, so this
# installs trixie's `kubernetes-client` (in trixie a transitional package that pulls in trixie's
# `kubectl` 1.32) from a Debian trixie apt source pinned at priority 100, exactly as
# scripts/provision-docker.sh does for compose v2: nothing else on the machine comes from trixie.
# Idempotent: does nothing when `kubectl version --client` already reports >= 1.32.
# Needs root only when it has to install. Works unattended (CI=true, no stdin).
set -euo pipefail

MIN_MINOR="${KUBECTL_MIN_MINOR:-32}"

log() { printf '[provision-kubectl] %s\n' "$*"; }
fail() {
  printf '[provision-kubectl] error: %s\n' "$*" >&2
  exit 1
}

# The client's minor version (1.x), or nothing when kubectl is missing or unreadable.
# Some builds report "32+" (for example the Google Cloud SDK's dispatcher), hence the digit filter.
kubectl_minor() {
  command -v kubectl >/dev/null 2>&1 || return 0
  kubectl version --client -o json 2>/dev/null |
    sed -n 's/.*"minor": *"\([0-9]*\).*/\1/p' | head -n1
}

# shellcheck source=lib/debian-trixie.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian-trixie.sh"

minor="$(kubectl_minor)"
if [ -n "$minor" ] && [ "$minor" -ge "$MIN_MINOR" ]; then
  log "kubectl 1.$minor is installed ($(command -v kubectl)); nothing to do"
  exit 0
fi
if [ -n "$minor" ]; then
  log "kubectl 1.$minor is older than 1.$MIN_MINOR"
else
  log "kubectl is not installed"
fi

[ "$(id -u)" -eq 0 ] || fail "installing kubectl needs root; run this script as root (or install kubectl >= 1.$MIN_MINOR by hand)"
command -v apt-get >/dev/null 2>&1 || fail "apt-get not found: this script provisions Debian machines only"

ensure_trixie_source

log "apt-get update"
apt-get update -qq || fail "apt-get update failed; is Debian's package archive reachable?"
log "installing from Debian trixie: kubernetes-client (transitional) and kubectl 1.$MIN_MINOR+ (/usr/bin/kubectl, with 'kubectl kustomize')"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -t trixie kubernetes-client </dev/null >/dev/null ||
  fail "apt-get install -t trixie kubernetes-client failed"
hash -r
minor="$(kubectl_minor)"
[ -n "$minor" ] && [ "$minor" -ge "$MIN_MINOR" ] ||
  fail "kubernetes-client from trixie installed, but 'kubectl version --client' reports '${minor:-nothing}', not >= 1.$MIN_MINOR"
log "installed kubectl 1.$minor ($(command -v kubectl))"
