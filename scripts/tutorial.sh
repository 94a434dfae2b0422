#!/usr/bin/env bash
# Set everything up and open the tutorial in JupyterLab, at notebook 00.
# The last line printed is the address to open (with its token).
# WSTUTORIAL_SETUP=0 skips the install step (the .venv is ready, e.g. offline).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${WSTUTORIAL_VENV:-.venv}"
if [ "${WSTUTORIAL_SETUP:-1}" != "0" ]; then
    bash scripts/setup-env.sh notebook
fi
"$venv/bin/python" -m wstutorial check || echo "(the setup check found a problem: see above)"
# notebooks/ served as it is (no copy), JupyterLab's log in $venv/jupyterlab.log.
exec "$venv/bin/python" -m wstutorial lab --in-place notebooks "$@"
