"""``python -m bench``: every measurement (see ``bench.run``); ``python -m bench broadcast``: only the broadcast
comparison; ``python -m bench echo``: only the echo comparison; ``python -m bench idle``: idle connections and the
collector; ``python -m bench classroom``: the lecture hall; ``python -m bench receivers``: receive sides without I/O;
``python -m bench teacher-page``: the teacher's page in Chromium with 1,000 students."""

import importlib
import sys

COMMANDS = ("broadcast", "echo", "idle", "classroom", "receivers", "teacher-page")

# The peers the comparisons run (the test extra has them): say what to install, not a traceback.
NEEDED = {
    "broadcast": ["websockets"],
    "echo": ["websockets"],
    "idle": ["websockets"],
    "classroom": ["redis"],
    "receivers": ["websockets"],
    "teacher-page": ["playwright"],
    None: ["websockets", "jupyter_client"],
}


def importable(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


command = sys.argv[1] if sys.argv[1:2] and sys.argv[1] in COMMANDS else None
missing = [name for name in NEEDED[command] if not importable(name)]
if missing:
    sys.exit(
        f"python -m bench{' ' + command if command else ''} needs {', '.join(missing)} (the test tools): "
        "run `bash scripts/setup-env.sh test` in the checkout, or `pip install -c constraints.txt -e '.[test]'`"
    )
if command is not None:
    module = importlib.import_module(f".{command.replace('-', '_')}", __package__)
    sys.exit(module.main(sys.argv[2:]))

from .run import main  # noqa: E402

sys.exit(main())
