#!/usr/bin/env bash
# Set everything up and open the tutorial in JupyterLab.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh
venv="${WSTUTORIAL_VENV:-.venv}"
"$venv/bin/python" -m wstutorial check || echo "(the setup check found a problem: see above)"
# JupyterLab's default port is 8888, the tutorial server's port: keep it free.
exec "$venv/bin/jupyter" lab --ServerApp.port=8890 notebooks/00-setup-check.ipynb "$@"
