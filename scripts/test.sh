#!/usr/bin/env bash
# Set everything up and run every test: the module, the notebooks (full nbval)
# and the real-browser tests. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh test
bash scripts/install-chromium.sh
bash scripts/install-services.sh
venv="${WSTUTORIAL_VENV:-.venv}"
exec "$venv/bin/python" -m pytest "$@"
