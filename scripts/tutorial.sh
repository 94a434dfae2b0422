#!/usr/bin/env bash
# Set everything up and open the tutorial in JupyterLab.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh notebook
venv="${WSTUTORIAL_VENV:-.venv}"
"$venv/bin/python" -m wstutorial check || echo "(the setup check found a problem: see above)"
options=(--ServerApp.port=8890)  # JupyterLab's default, 8888, is the tutorial server's port
# Containers and fresh cloud machines often log in as root; JupyterLab refuses that unless told.
[ "$(id -u)" = "0" ] && options+=(--allow-root)
exec "$venv/bin/jupyter" lab "${options[@]}" notebooks/00-setup-check.ipynb "$@"
