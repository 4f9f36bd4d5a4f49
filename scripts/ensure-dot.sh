#!/usr/bin/env bash
# Make sure Graphviz's `dot` is on PATH: install it when we are root on apt, else say how.
set -euo pipefail
command -v dot >/dev/null 2>&1 && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Graphviz 'dot' not found: installing it with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends graphviz fonts-dejavu-core >/dev/null
  command -v dot >/dev/null 2>&1 && exit 0
fi

cat >&2 <<'MSG'
Graphviz's `dot` program is needed to render graphs, and it is not installed.
Install it, then run make again:
  Debian/Ubuntu:  sudo apt-get install -y --no-install-recommends graphviz fonts-dejavu-core
  macOS:          brew install graphviz
  Windows:        choco install graphviz
MSG
exit 1
