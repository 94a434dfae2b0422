#!/usr/bin/env bash
# Set everything up and open the tutorial in JupyterLab.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh
venv="${WSTUTORIAL_VENV:-.venv}"
"$venv/bin/python" -m wstutorial check || echo "(the setup check found a problem: see above)"
exec "$venv/bin/jupyter" lab notebooks/00-setup-check.ipynb "$@"
