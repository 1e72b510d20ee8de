#!/bin/sh
# The image's command: sizes V8's heap from the container's memory limit, then runs the server
# (exec: node is the process that receives the signals). Old space 3/8 of the limit, a 4 MiB
# semi-space: under floods of short-lived garbage Node's own sizing (half of the limit, 16 MiB
# semi-spaces) let the RSS of one abusive connection grow by 120 MiB; these keep it at a fraction
# (docs/operations.md, "Memory under the container's limit"). NODE_OPTIONS with its own
# --max-old-space-size, or no limit, leaves Node's sizing alone.
set -eu
limit=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || echo max)
heap=""
case "$limit" in
  '' | max | *[!0-9]*) ;;
  *)
    mib=$((limit / 1048576))
    # cgroup v1 says "no limit" with a huge number.
    if [ "$mib" -lt 1048576 ]; then
      heap="--max-old-space-size=$((mib * 3 / 8)) --max-semi-space-size=4"
    fi
    ;;
esac
case "${NODE_OPTIONS:-}" in
  *--max-old-space-size*) heap="" ;;
esac
# shellcheck disable=SC2086 # $heap is two flags or none
exec node $heap services/echo-server/dist/main.js "$@"
