#!/usr/bin/env bash
# Runs each argument as a command (`bash -c`), all at once, and fails when any failed, naming it.
# `npm test` runs lint beside check-removable with it: both only read the tree, lint is mostly one
# process at a time, and on 2 CPUs the two together end well before one after the other would.
# Each command's output goes to the console as it comes (check-removable prints its report at the end).
# Usage: bash scripts/run-together.sh 'npm run lint' 'npm run check:removable'
set -uo pipefail
declare -A commands=()
for command in "$@"; do
  bash -c "$command" &
  commands[$!]=$command
done
# A command still running when this script is interrupted is stopped with it.
trap 'kill "${!commands[@]}" 2>/dev/null' EXIT
failed=()
for pid in "${!commands[@]}"; do
  wait "$pid" || failed+=("${commands[$pid]}")
done
trap - EXIT
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'run-together: failed: %s\n' "${failed[@]}" >&2
  exit 1
fi
