#!/usr/bin/env bash
# Refresh constraints.txt, the tested versions of every dependency (core,
# [notebook], [test]): resolve them afresh and record what pip chose. Run it
# after changing a dependency in pyproject.toml, then run the tests and commit
# both files.
#
# The resolution is for the lowest Python the project allows (requires-python
# in pyproject.toml: ">=3.11", so 3.11.0): pip checks every candidate's
# Requires-Python against that version, so each pin installs on every allowed
# Python (a pin that needs 3.11.5 would fail on Debian 12's own 3.11.2).
# Environment markers are those of the Python that runs this script, so it
# must be a 3.11 (on Linux: the lock is Linux's; the wheelhouse adds what
# other platforms need). Wheels only: pip can check another Python version's
# Requires-Python only for wheels, and students' laptops install wheels only.
#
# Usage: bash scripts/lock.sh [PIP OPTION...]
#   PYTHON=/path/to/python3.11 bash scripts/lock.sh    another Python 3.11
#   bash scripts/lock.sh -c old.txt                    prefer these versions where they still fit
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null || { echo "error: $python not found; set PYTHON=... to a Python 3.11" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The floor (requires-python) and the requirements, read from pyproject.toml.
floor=$("$python" - "$tmp/requirements.txt" <<'EOF'
import re, sys, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
match = re.fullmatch(r">=\s*(\d+)\.(\d+)(?:\.(\d+))?", project["requires-python"].strip())
if not match:
    sys.exit(f"error: requires-python {project['requires-python']!r} is not '>=X.Y[.Z]'; lock.sh reads only that form")
major, minor, micro = int(match[1]), int(match[2]), int(match[3] or 0)
if sys.version_info[:2] != (major, minor):
    sys.exit(f"error: {sys.executable} is Python {sys.version.split()[0]}; the lock's markers must be those of "
             f"Python {major}.{minor} (requires-python {project['requires-python']}): set PYTHON=... to one")
texts = project["dependencies"] + [text for extra in project["optional-dependencies"].values() for text in extra]
own = re.compile(r"wstutorial\s*(\[|$)")
with open(sys.argv[1], "w") as out:
    out.write("".join(text + "\n" for text in texts if not own.match(text)))
print(f"{major}.{minor}.{micro}")
EOF
)

"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip \
    2> >(grep -v "^WARNING: Location '.*' is ignored" >&2)
echo "==> resolving wstutorial's dependencies for Python $floor (the lowest allowed), with $("$python" --version)"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --dry-run --ignore-installed \
    --only-binary=:all: --python-version "$floor" --target "$tmp/target" --report "$tmp/report.json" \
    -r "$tmp/requirements.txt" "$@" \
    2> >(grep -v "^WARNING: Location '.*' is ignored" >&2)
"$tmp/venv/bin/python" - "$tmp/report.json" "$floor" "$("$python" --version)" > constraints.txt <<'EOF'
import json, sys
report, floor, resolver = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
pins = sorted((item["metadata"]["name"], item["metadata"]["version"]) for item in report["install"])
print("# The tested versions of wstutorial's dependencies (core, [notebook], [test]), resolved by")
print(f"# scripts/lock.sh for Python {floor} (the lowest that pyproject.toml allows: every pin installs on")
print(f"# every allowed Python), with the markers of {resolver} on Linux; refresh: bash scripts/lock.sh")
print("# Used as: pip install -c constraints.txt -e '.[notebook]'  (scripts/setup-env.sh does)")
for name, version in sorted(pins, key=lambda pin: pin[0].lower()):
    print(f"{name}=={version}")
EOF
echo "==> constraints.txt: $(grep -vc '^#' constraints.txt) packages, for Python $floor and newer"
