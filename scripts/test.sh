#!/usr/bin/env bash
# Set everything up and run every test: the module, the notebooks (full nbval)
# and the real-browser tests. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh test
bash scripts/install-chromium.sh
bash scripts/install-services.sh
bash scripts/install-hub-proxy.sh   # configurable-http-proxy (npm) into .venv, for tests/test_jupyterhub.py
venv="${WSTUTORIAL_VENV:-.venv}"
# Two workers (pytest-xdist): most tests wait on real servers, kernels and a
# browser rather than compute, so two run side by side in about half the time.
# --dist loadfile keeps each file on one worker: a notebook's cells share one
# kernel, and a file's module- and package-scoped fixtures (JupyterLab,
# Chromium) start once. Each worker picks its own $WSTUTORIAL_PORT (conftest.py).
# Override with e.g. 'bash scripts/test.sh -n 0' (one process).
exec "$venv/bin/python" -m pytest -n 2 --dist loadfile "$@"
