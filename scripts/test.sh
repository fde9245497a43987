#!/usr/bin/env bash
# The whole test suite, as CI runs it: install, start the local stack, lint, type-check, test.
# Services this script started are stopped at the end; ones already running are left alone.
# The suite runs on the default Elasticsearch 9.x; a full run then starts the 8.19 fallback
# on a port of its own and runs the English analysis and seeds module on it too.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

dropsift=.venv/bin/dropsift
es8_url=http://127.0.0.1:9219
es8=(env DROPSIFT_STATE_DIR=$PWD/.dropsift/es8 DROPSIFT_ES_VERSION=8.19.21 DROPSIFT_ES_URL=$es8_url)
stop=()
cleanup() { for command in "${stop[@]}"; do $command || true; done; }
trap cleanup EXIT
if ! $dropsift stack status >/dev/null 2>&1; then
  stop+=("$dropsift stack down")
fi
$dropsift stack up

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/pytest "$@"

if [ $# -eq 0 ]; then
  # Its own state folder: `down` stops only this node, not the Redis the run shares.
  stop+=("${es8[*]} $dropsift stack down")
  "${es8[@]}" $dropsift stack up
  DROPSIFT_TEST_ES_URL=$es8_url .venv/bin/pytest tests/search/test_english_integration.py
fi
