"""Run the Autobahn|Testsuite fuzzing client against /echo of a local server and summarise the report.

Called by ``scripts/autobahn.sh`` (which sets up the Python 2.7 virtualenv the
suite needs); not part of the test command: the full run takes minutes.

    python scripts/autobahn.py WSTEST [--cases 1.*,7.*] [--outdir DIR]

Prints how many cases ended with each behaviour (OK, NON-STRICT, FAILED,
UNIMPLEMENTED, INFORMATIONAL) and every case that is not OK or
INFORMATIONAL, then exits 1 if any case failed, is non-strict or
unimplemented (the compression cases 12.* and 13.* included: the server
negotiates permessage-deflate).
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import wstutorial

LARGEST_MESSAGE = 16 * 1024 * 1024  # cases 9.1.6, 9.2.6: one 16 MiB message


def run(wstest: str, cases: list[str], outdir: Path, max_message_size: int) -> dict[str, dict[str, str]]:
    # Room in the server's budget for partly received messages for one whole message of that size.
    settings = {"ping_interval": None, "max_message_size": max_message_size, "max_partial_bytes": 2 * max_message_size}
    server = wstutorial.start_server(port=0, **settings)  # type: ignore[arg-type]
    print(f"server: start_server(port=0, {', '.join(f'{k}={v}' for k, v in settings.items())})", flush=True)
    try:
        spec = {
            "outdir": str(outdir),
            "servers": [{"agent": "wstutorial", "url": server.ws_url("/echo")}],
            "cases": cases,
            "exclude-cases": [],
            "exclude-agent-cases": {},
        }
        spec_path = outdir / "fuzzingclient.json"
        spec_path.write_text(json.dumps(spec, indent=2))
        subprocess.run([wstest, "-m", "fuzzingclient", "-s", str(spec_path)], check=True, cwd=outdir)
    finally:
        server.stop()
    index = json.loads((outdir / "index.json").read_text())
    return index["wstutorial"]


def summarise(results: dict[str, dict[str, str]]) -> int:
    counts = collections.Counter(result["behavior"] for result in results.values())
    print(f"{len(results)} cases: " + ", ".join(f"{counts[b]} {b}" for b in sorted(counts)))
    problems = 0
    for case in sorted(results, key=lambda c: [int(part) for part in c.split(".")]):
        result = results[case]
        if result["behavior"] in ("OK", "INFORMATIONAL"):
            continue
        print(f"  {case}: {result['behavior']} (close: {result['behaviorClose']})")
        problems += 1
    print(f"{problems} failed, non-strict or unimplemented")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wstest", help="the wstest command of autobahntestsuite (Python 2.7)")
    parser.add_argument("--cases", default="*", help="comma-separated case patterns, e.g. '1.*,7.*' (default: all)")
    parser.add_argument(
        "--max-message-size",
        type=int,
        default=LARGEST_MESSAGE,
        help="the server's max_message_size (default: 16 MiB, the largest message of cases 9.*; "
        "the server's own default, 1 MiB, answers 1009 to the 24 cases above it, as designed)",
    )
    parser.add_argument("--outdir", help="where the report goes (default: a temporary directory)")
    args = parser.parse_args()
    outdir = Path(args.outdir or tempfile.mkdtemp(prefix="autobahn-")).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    results = run(str(Path(args.wstest).resolve()), args.cases.split(","), outdir, args.max_message_size)
    print(f"report: {outdir / 'index.html'}")
    return 1 if summarise(results) else 0


if __name__ == "__main__":
    sys.exit(main())
