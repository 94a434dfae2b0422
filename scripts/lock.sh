#!/usr/bin/env bash
# Refresh constraints.txt, the tested versions of every dependency: resolve
# wstutorial[test] (which includes [notebook]) afresh on Python 3.11 in a
# temporary venv and record what pip chose. Run it after changing a
# dependency in pyproject.toml, then run the tests and commit both files.
# Usage: bash scripts/lock.sh   (PYTHON=python3.12 to resolve with another Python)
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null || { echo "error: $python not found; set PYTHON=... to a Python 3.11" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip \
    2> >(grep -v "^WARNING: Location '.*' is ignored" >&2)
echo "==> resolving .[test] with $("$python" --version) (a few minutes)"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[test]" \
    2> >(grep -v "^WARNING: Location '.*' is ignored" >&2)
{
    echo "# The tested versions of wstutorial's dependencies (core, [notebook], [test]),"
    echo "# resolved on $("$python" --version) by scripts/lock.sh; refresh: bash scripts/lock.sh"
    echo "# Used as: pip install -c constraints.txt -e '.[notebook]'  (scripts/setup-env.sh does)"
    "$tmp/venv/bin/python" -m pip freeze --exclude-editable --disable-pip-version-check
} > constraints.txt
echo "==> constraints.txt: $(grep -vc '^#' constraints.txt) packages"
