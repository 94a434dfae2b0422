#!/usr/bin/env bash
# Create .venv with Python 3.11+ and install wstutorial into it (editable),
# at the tested versions of constraints.txt (refresh: bash scripts/lock.sh).
# Usage: scripts/setup-env.sh [EXTRA]
#   no EXTRA: the lean install (Tornado: the server and client, for scripts)
#   notebook: + JupyterLab, ipywidgets, the chart (scripts/tutorial.sh)
#   test:     + notebook + the test tools (scripts/test.sh)
# Run by tutorial.sh and test.sh; safe to run again (it only tops up).
set -euo pipefail
cd "$(dirname "$0")/.."

extra="${1:-}"
venv="${WSTUTORIAL_VENV:-.venv}"

find_python() {
    for candidate in python3.11 python3.12 python3.13 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1 &&
           "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if [ ! -x "$venv/bin/python" ]; then
    python=$(find_python) || {
        echo "error: wstutorial needs Python 3.11 or newer; none found (on Debian: apt-get install python3 python3-venv)" >&2
        exit 1
    }
    echo "==> creating $venv with $($python --version)"
    if ! "$python" -m venv "$venv"; then
        rm -rf "$venv"
        # Debian's own Python keeps venv/ensurepip in a separate package.
        if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
            echo "==> installing Debian's python3-venv"
            DEBIAN_FRONTEND=noninteractive apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
            "$python" -m venv "$venv"
        else
            echo "error: could not create $venv; on Debian install the venv module: sudo apt-get install python3-venv" >&2
            exit 1
        fi
    fi
fi

target="."
[ -n "$extra" ] && target=".[$extra]"
echo "==> installing wstutorial${extra:+ with [$extra]} into $venv (first time: a few minutes)"
pip_install() {
    # Some machines list local package folders that do not exist; pip warns
    # once per package about them. Keep real errors, drop that noise.
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" \
        2> >(grep -v "^WARNING: Location '.*' is ignored" >&2)
}
pip_install --upgrade pip
pip_install -c constraints.txt -e "$target"
echo "==> $venv is ready"
