#!/usr/bin/env bash
# Checks that every optional module can be removed as docs/removable-modules.md says: for each
# module of its table, copies the tree to a temporary folder, deletes the module's folders and
# its lines there, then runs the type-check, the dependency rules, lint and the unit tests of
# what remains. Fails naming each module whose removal broke the build.
# The modules are checked side by side, CHECK_REMOVABLE_JOBS at once (default: the CPUs, at
# least 2): each check is one process after another, mostly single-threaded.
# Usage: bash scripts/check-removable.sh [module name ...]   (default: every module of the table)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DOC=docs/removable-modules.md
export PATH="/usr/local/bin:$PATH"
JOBS=${CHECK_REMOVABLE_JOBS:-$(nproc 2>/dev/null || echo 2)}
((JOBS >= 2)) || JOBS=2

# The table's rows: | module | `folder/` | `file` | `line` |  ->  module<TAB>folder<TAB>file<TAB>line
rows() {
  node -e '
    const text = require("node:fs").readFileSync(process.argv[1], "utf8");
    for (const line of text.split("\n")) {
      const cells = line.split("|").slice(1, -1).map((cell) => cell.trim());
      const code = cells.slice(1).map((cell) => /^`(.+)`$/.exec(cell)?.[1]);
      if (cells.length === 4 && code.every(Boolean)) console.log([cells[0], ...code].join("\t"));
    }' "$DOC"
}

mapfile -t ROWS < <(rows)
if [ "${#ROWS[@]}" -eq 0 ]; then
  echo "check-removable: no module rows found in $DOC" >&2
  exit 1
fi
if [ "$#" -gt 0 ]; then
  MODULES=("$@")
else
  mapfile -t MODULES < <(printf '%s\n' "${ROWS[@]}" | cut -f1 | awk '!seen[$0]++')
fi

WORK=$(mktemp -d)
# A background check still running when this script is interrupted is stopped with it.
trap 'jobs -p | xargs -r kill 2>/dev/null; rm -rf "$WORK"' EXIT

# Removes one module from a copy of the tree; prints what it deleted.
remove_module() {
  local copy=$1 module=$2 row name folder file line
  for row in "${ROWS[@]}"; do
    IFS=$'\t' read -r name folder file line <<<"$row"
    [ "$name" = "$module" ] || continue
    [ -d "$copy/$folder" ] || { echo "folder $folder is not in the tree"; return 1; }
    rm -rf "${copy:?}/$folder"
    LINE="$line" node -e '
      const fs = require("node:fs");
      const [path] = process.argv.slice(1);
      const lines = fs.readFileSync(path, "utf8").split("\n");
      const at = lines.findIndex((candidate) => candidate.trim() === process.env.LINE);
      if (at < 0) { console.error(`the line is not in ${path}: ${process.env.LINE}`); process.exit(1); }
      lines.splice(at, 1);
      fs.writeFileSync(path, lines.join("\n"));' "$copy/$file" || return 1
    echo "  deleted $folder and one line of $file"
    EDITED+=("$file")
  done
}

# The checks of what remains, in the copy: the whole type-check and dependency rules; lint of
# the files edited (the rest is unchanged, and tsc reports what the removal left unused); the
# unit tests that import the edited files, directly or not (Jest's --findRelatedTests): what the
# removal can break at run time is the wiring those files held.
check_copy() {
  local copy=$1
  cd "$copy" &&
    npx tsc -p tsconfig.spec.json &&
    npx depcruise libs services --config .dependency-cruiser.cjs --output-type err &&
    npx eslint --max-warnings 0 "${EDITED[@]}" &&
    node --experimental-vm-modules --disable-warning=ExperimentalWarning node_modules/jest/bin/jest.js --findRelatedTests "${EDITED[@]}" --selectProjects unit --silent --reporters=summary
}

# One module, start to end, in the background: its report goes to $copy.out, its checks' output
# to $copy.log, and $copy.ok exists when they passed.
check_module() {
  local module=$1 copy=$2 started=$SECONDS
  mkdir -p "$copy"
  git ls-files -z --cached --others --exclude-standard | grep -zv '^node_modules/' | tar -C "$ROOT" --null -T - -c | tar -C "$copy" -x
  ln -s "$ROOT/node_modules" "$copy/node_modules"
  EDITED=()
  {
    echo "check-removable: without $module"
    if remove_module "$copy" "$module" && (check_copy "$copy") >"$copy.log" 2>&1; then
      echo "  ok in $((SECONDS - started)) s: type-check, dependency rules, lint and unit tests pass"
      touch "$copy.ok"
    else
      echo "  FAILED after $((SECONDS - started)) s: the tree without $module does not build; the last lines of its checks:"
      tail -n 30 "$copy.log" 2>/dev/null | sed 's/^/    /'
    fi
  } >"$copy.out" 2>&1
  rm -rf "$copy"
}

copy_of() { echo "$WORK/$(echo "$1" | tr -c 'a-zA-Z0-9\n' '-')"; }

# The longest checks start first: a module wired in a file under libs/ has the most related unit
# tests (every workspace imports libs/common), so those go ahead; the rest keep the table's order.
wired_in_libs() {
  printf '%s\n' "${ROWS[@]}" | awk -F'\t' -v module="$1" '$1 == module && $3 ~ /^libs\// { found = 1 } END { exit !found }'
}
ORDER=()
for module in "${MODULES[@]}"; do wired_in_libs "$module" && ORDER+=("$module"); done
for module in "${MODULES[@]}"; do wired_in_libs "$module" || ORDER+=("$module"); done

for module in "${ORDER[@]}"; do
  while (($(jobs -rp | wc -l) >= JOBS)); do
    wait -n || true
  done
  check_module "$module" "$(copy_of "$module")" &
done
wait

# The reports in the table's order, once every check is over.
failed=()
for module in "${MODULES[@]}"; do
  copy=$(copy_of "$module")
  cat "$copy.out" 2>/dev/null || echo "check-removable: without $module: no report (the check did not run)"
  [ -e "$copy.ok" ] || failed+=("$module")
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "check-removable: removing these modules broke the build: ${failed[*]}" >&2
  exit 1
fi
echo "check-removable: every module of $DOC can be removed (${#MODULES[@]} checked, $JOBS at once, in $SECONDS s)"
