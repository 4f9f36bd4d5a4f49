#!/usr/bin/env bash
# Make sure Debian's Chromium and its WebDriver are installed, for the browser tests of the
# step-through page (tests/test_step_page.py). As root with apt it installs them; elsewhere it
# says how, and the browser tests skip with that reason. The Debian packages are used so that no
# tool downloads a browser of its own.
set -euo pipefail
have() { [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; }
have && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Chromium not found: installing chromium and chromium-driver with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  start=$(date +%s)
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  echo "apt-get installed Chromium in $(( $(date +%s) - start )) s" >&2
  have && exit 0
fi

cat >&2 <<'MSG'
Chromium and chromium-driver are not installed, so the step-through page's browser tests will
skip. To run them:
  Debian/Ubuntu:  sudo apt-get install -y --no-install-recommends chromium chromium-driver
MSG
exit 1
