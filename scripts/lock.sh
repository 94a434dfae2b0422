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
# other platforms need). What only an older 3.11.x than this one needs (redis
# asks for async-timeout where python_full_version < "3.11.3") is resolved in
# a second pass and pinned with that marker; pip applies such a pin only
# where its marker holds, so a student on Debian 12's 3.11.2 gets the tested
# version. Wheels only: pip can check another Python version's
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

# pip evaluated the markers for this Python only: find the requirements of the resolved packages whose
# markers hold on an allowed 3.11.x older than this one but not here (one line each: requirement TAB marker).
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check packaging \
    2> >(grep -v "^WARNING: Location '.*' is ignored" >&2)
"$tmp/venv/bin/python" - "$tmp/report.json" "$floor" "$python" > "$tmp/older.txt" <<'EOF'
import json, subprocess, sys
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
report, floor, python = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
here = json.loads(subprocess.check_output([python, "-c", "import json, sys; print(json.dumps(sys.version_info[:3]))"]))
major, minor, micro = map(int, floor.split("."))
at_here = {**default_environment(), "python_full_version": ".".join(map(str, here)), "python_version": f"{here[0]}.{here[1]}"}
older = [{**at_here, "python_full_version": f"{major}.{minor}.{m}"} for m in range(micro, here[2])]
pinned = {canonicalize_name(item["metadata"]["name"]) for item in report["install"]}
wanted: dict[str, list[str]] = {}
for item in report["install"]:
    extras = ["", *item.get("requested_extras", [])]
    for text in item["metadata"].get("requires_dist", []):
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is None or canonicalize_name(requirement.name) in pinned:
            continue
        holds = lambda environment: any(marker.evaluate({**environment, "extra": extra}) for extra in extras)
        if any(holds(environment) for environment in older) and not holds(at_here):
            requirement.marker = None
            wanted.setdefault(f"{requirement}\t{marker}", [])
for line in sorted(wanted):
    print(line)
EOF
pins="$tmp/constraints.txt"
"$tmp/venv/bin/python" - "$tmp/report.json" "$floor" "$("$python" --version)" > "$pins" <<'EOF'
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
if [ -s "$tmp/older.txt" ]; then
    echo "==> and what only Python $floor up to $("$python" --version | cut -d' ' -f2) (excluded) needs: $(cut -f1 "$tmp/older.txt" | paste -sd' ')"
    cut -f1 "$tmp/older.txt" > "$tmp/older-requirements.txt"
    "$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --dry-run --ignore-installed \
        --only-binary=:all: --python-version "$floor" --target "$tmp/target-older" --report "$tmp/older-report.json" \
        -c "$pins" -r "$tmp/older-requirements.txt" "$@" \
        2> >(grep -v "^WARNING: Location '.*' is ignored" >&2)
    "$tmp/venv/bin/python" - "$tmp/older-report.json" "$tmp/older.txt" "$pins" "$("$python" --version)" >> "$pins" <<'EOF'
import json, sys
report, older, pins, resolver = json.load(open(sys.argv[1])), open(sys.argv[2]).read().splitlines(), sys.argv[3], sys.argv[4]
locked = {line.split("==")[0].lower() for line in open(pins) if "==" in line and not line.startswith("#")}
markers = sorted({line.split("\t")[1] for line in older})
# Each new pin (what those requirements need, too) applies where any of the requirements' markers holds.
marker = markers[0] if len(markers) == 1 else " or ".join(f"({text})" for text in markers)
new = sorted((item["metadata"]["name"], item["metadata"]["version"]) for item in report["install"]
             if item["metadata"]["name"].lower() not in locked)
print(f"# Only for Python releases older than {resolver.split()[-1]} (pip applies a pin where its marker holds):")
for name, version in sorted(new, key=lambda pin: pin[0].lower()):
    print(f"{name}=={version} ; {marker}")
EOF
fi
mv "$pins" constraints.txt
echo "==> constraints.txt: $(grep -vc '^#' constraints.txt) packages, for Python $floor and newer"
