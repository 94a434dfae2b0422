#!/usr/bin/env bash
# RFC 6455 conformance: the Autobahn|Testsuite fuzzing client against /echo.
# Not part of the test command (it takes several minutes). The suite
# (autobahntestsuite 25.10.1) runs on Python 2.7 only: this script makes a
# Python 2.7 virtualenv in .autobahn/py2 (from $PYTHON2, else python2.7 on the
# PATH, else pyenv's 2.7), installs the suite there, and runs it against a
# server started from .venv (make it with `bash scripts/setup-env.sh test`).
#
#   bash scripts/autobahn.sh                 # every case
#   bash scripts/autobahn.sh --cases '7.*'   # some cases
#   bash scripts/autobahn.sh --outdir DIR    # keep the HTML report in DIR
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${WSTUTORIAL_VENV:-.venv}"
py2_env=.autobahn/py2

find_python2() {
    local candidate
    for candidate in ${PYTHON2:-} "${PYENV_ROOT:-$HOME/.pyenv}"/versions/2.7*/bin/python2.7 python2.7; do
        # A pyenv shim is on the PATH even when 2.7 is not selected: try it.
        if "$candidate" -c "import sys; assert sys.version_info[:2] == (2, 7)" >/dev/null 2>&1; then
            echo "$candidate"
            return
        fi
    done
    echo "autobahn.sh: the Autobahn|Testsuite needs Python 2.7; install it (e.g. 'pyenv install 2.7.18') or set PYTHON2" >&2
    exit 1
}

if [ ! -x "$py2_env/bin/wstest" ]; then
    python2=$(find_python2)
    echo "==> making $py2_env with $python2"
    if ! "$python2" -m virtualenv --version >/dev/null 2>&1; then
        # The last virtualenv release that still runs on Python 2.7.
        "$python2" -m pip install --quiet "virtualenv<20.22"
    fi
    "$python2" -m virtualenv --quiet "$py2_env"
    "$py2_env/bin/pip" install --quiet "autobahntestsuite==25.10.1"
fi
exec "$venv/bin/python" scripts/autobahn.py "$py2_env/bin/wstest" "$@"
