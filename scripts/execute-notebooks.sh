#!/usr/bin/env bash
# Re-run the tutorial's notebooks and store their outputs (nbval compares them).
# Usage: scripts/execute-notebooks.sh [NOTEBOOK...]   (default: all of notebooks/)
# Runs on a free port, never on a port others may use, then writes the
# documented port 8888 into the stored outputs so they read like the text.
# Widget state is not stored: JupyterLab 4 cannot show it without the kernel
# anyway (jupyterlab#15361), and its random model ids would churn every diff.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${WSTUTORIAL_VENV:-.venv}"
[ -x "$venv/bin/jupyter" ] || bash scripts/setup-env.sh test
if [ "$#" -eq 0 ]; then set -- notebooks/[0-9]*.ipynb; fi
port=$("$venv/bin/python" -c 'from wstutorial.address import free_port; print(free_port())')
export WSTUTORIAL_PORT="$port" PYDEVD_DISABLE_FILE_VALIDATION=1 JUPYTER_PLATFORM_DIRS=1
for notebook in "$@"; do
    echo "==> executing $notebook"
    "$venv/bin/jupyter" nbconvert --to notebook --execute --inplace \
        --ExecutePreprocessor.timeout=120 --log-level=ERROR "$notebook" 2>&1 |
        { grep -v "Kernel is running over TCP without encryption" || true; }
done
"$venv/bin/python" - "$port" "$@" <<'PY'
import pathlib, re, sys

import nbformat

port, *names = sys.argv[1:]
for name in names:
    path = pathlib.Path(name)
    notebook = nbformat.reads(re.sub(r"(?<![.\w])" + port + r"(?!\d)", "8888", path.read_text()), as_version=4)
    notebook.metadata.pop("widgets", None)
    nbformat.write(notebook, str(path))
PY
echo "==> done; check with: $venv/bin/python -m pytest notebooks"
