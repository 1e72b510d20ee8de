# Shared by scripts/provision-docker.sh and scripts/provision-kubectl.sh (sourced, not run; each
# defines `log` first): Debian trixie as an extra apt source, pinned low, for the few packages that
# bookworm has too old (compose v2, kubectl). Nothing else on the machine comes from trixie.

# The mirror URI the host already uses for Debian (deb822 or one-line sources).
debian_mirror() {
  local uri
  uri="$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v -- '-security' | grep -v -- 'nodesource' | head -n1 || true)"
  if [ -z "$uri" ]; then
    uri="$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}' | grep -v -- '-security' | head -n1 || true)"
  fi
  printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

# Adds trixie as an apt source (unless one is configured) and pins it at priority 100, so that only
# what is asked for with `-t trixie` comes from it. Needs root; the caller runs `apt-get update` after.
ensure_trixie_source() {
  if grep -qsE '^Suites:.*\btrixie\b|^deb .* trixie( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; then
    log "a Debian trixie apt source is already configured"
  else
    local mirror
    mirror="$(debian_mirror)"
    log "adding Debian trixie ($mirror) as a low-priority apt source (/etc/apt/sources.list.d/trixie.sources)"
    cat >/etc/apt/sources.list.d/trixie.sources <<SOURCES
Types: deb
URIs: $mirror
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  fi
  if ! grep -qsx 'Pin-Priority: 100' /etc/apt/preferences.d/trixie-low; then
    log "pinning trixie at priority 100 (/etc/apt/preferences.d/trixie-low)"
    cat >/etc/apt/preferences.d/trixie-low <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
  fi
}
