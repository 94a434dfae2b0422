"""Session set-up shared by the module tests and the notebooks (nbval).

The notebooks call ``wstutorial.start_server()`` without a port, i.e. on
$WSTUTORIAL_PORT (else 8888). Each test session picks its own free port here,
before nbval starts any kernel (kernels inherit this environment), so the
notebooks never collide with another server on the machine.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from wstutorial.address import free_port


def pytest_configure() -> None:
    os.environ["WSTUTORIAL_PORT"] = str(free_port())
    # Kernels must not write anything nbval would compare: debugpy's note
    # about frozen modules goes to the kernel's stderr on some Pythons.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    # jupyter_core warns on stderr about its platformdirs migration otherwise.
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    # Every check keeps its result in a per-user file (student/progress.py):
    # the tests' results go to a file of this session, never to the user's.
    kept = tempfile.mkdtemp(prefix="wstutorial-progress-")
    atexit.register(shutil.rmtree, kept, ignore_errors=True)
    os.environ["WSTUTORIAL_PROGRESS_FILE"] = str(Path(kept) / "progress.json")
    # `classroom` keeps each room in a per-user data folder: the tests' rooms go to this session's.
    os.environ["WSTUTORIAL_DATA_DIR"] = str(Path(kept) / "rooms")
