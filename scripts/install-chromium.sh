#!/usr/bin/env bash
# The browser tests drive Debian's chromium package (Playwright's own browser
# download needs network access that classrooms and CI may not have).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -n "${WSTUTORIAL_CHROMIUM:-}" ]; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing Debian's chromium for the browser tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
else
    echo "error: the browser tests need chromium; install it with 'sudo apt-get install chromium'" \
         "or set WSTUTORIAL_CHROMIUM to a Chromium executable" >&2
    exit 1
fi
