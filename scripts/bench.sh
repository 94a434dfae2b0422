#!/usr/bin/env bash
# Set up .venv (with the test tools: the benchmark uses the websockets
# library) and run every measurement; extra arguments go to the benchmark,
# e.g. "--quick" or "--slow-seconds 10". Prints a table and writes
# bench/results/bench-<time>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh test
venv="${WSTUTORIAL_VENV:-.venv}"
exec "$venv/bin/python" -m bench "$@"
