#!/usr/bin/env bash
# The JupyterHub test (tests/test_jupyterhub.py) runs a real JupyterHub, whose
# proxy, configurable-http-proxy, comes from the npm registry. It goes into the
# test environment (.venv/hub-proxy/), never globally, at the version locked in
# tests/hub/package-lock.json (4.6.x: it runs on Debian 12's Node.js 18 too).
# Needs node and npm: on Debian, run as root, this installs Debian's nodejs and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${WSTUTORIAL_VENV:-.venv}"
target="$venv/hub-proxy"
if [ -x "$target/node_modules/.bin/configurable-http-proxy" ] && cmp -s tests/hub/package-lock.json "$target/package-lock.json"; then
    exit 0
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing Debian's nodejs and npm for the JupyterHub test's proxy"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq nodejs npm >/dev/null
    else
        echo "error: the JupyterHub test needs Node.js and npm (for configurable-http-proxy);" \
             "install them with 'sudo apt-get install nodejs npm' (macOS: brew install node)" >&2
        exit 1
    fi
fi
echo "==> installing configurable-http-proxy (npm) into $target"
mkdir -p "$target"
cp tests/hub/package.json tests/hub/package-lock.json "$target/"
(cd "$target" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
"$target/node_modules/.bin/configurable-http-proxy" --version >/dev/null
