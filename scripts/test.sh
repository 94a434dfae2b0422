#!/usr/bin/env bash
# Set everything up and run every test: the module, the notebooks (full nbval)
# and the real-browser tests. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh test
venv="${WSTUTORIAL_VENV:-.venv}"
if [ "$#" -eq 0 ]; then
    # The teacher's wheelhouse for every platform (tests/class_wheels.py) waits
    # minutes on the package registry: it downloads in the background, in a
    # process group of its own, while the rest is set up and the tests run.
    WSTUTORIAL_TEST_WHEELHOUSE="$(mktemp -d -t wstutorial-wheelhouse.XXXXXX)"
    export WSTUTORIAL_TEST_WHEELHOUSE
    setsid "$venv/bin/python" tests/class_wheels.py "$WSTUTORIAL_TEST_WHEELHOUSE" >"$WSTUTORIAL_TEST_WHEELHOUSE/made.log" 2>&1 &
    prefetch=$!
    trap 'kill -- -"$prefetch" 2>/dev/null || true; rm -rf "$WSTUTORIAL_TEST_WHEELHOUSE"' EXIT
fi
bash scripts/install-chromium.sh
bash scripts/install-services.sh
bash scripts/install-hub-proxy.sh   # configurable-http-proxy (npm) into .venv, for tests/test_jupyterhub.py
# Two workers (pytest-xdist): most tests wait on real servers, kernels and a
# browser rather than compute, so two run side by side in about half the time.
# --dist loadfile keeps each file on one worker: a notebook's cells share one
# kernel, and a file's module- and package-scoped fixtures (JupyterLab,
# Chromium) start once. Each worker picks its own $WSTUTORIAL_PORT (conftest.py).
# Override with e.g. 'bash scripts/test.sh -n 0' (one process).
"$venv/bin/python" -m pytest -n 2 --dist loadfile "$@"
