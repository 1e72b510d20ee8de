#!/usr/bin/env bash
# Every test in one command on a fresh clone: installs what is missing (scripts/setup-tests.sh,
# which says what before it installs it), then runs `npm test`. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-tests.sh
# setup-tests.sh may have just installed Node 24 into /usr/local/bin.
export PATH="/usr/local/bin:$PATH"
echo "[setup] running npm test"
exec npm test
