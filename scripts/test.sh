#!/usr/bin/env bash
# The whole test suite, as CI runs it: install, start the local stack, lint, type-check, test.
# Services this script started are stopped at the end; ones already running are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

dropsift=.venv/bin/dropsift
if ! $dropsift stack status >/dev/null 2>&1; then
  trap '$dropsift stack down' EXIT
fi
$dropsift stack up

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/pytest "$@"
