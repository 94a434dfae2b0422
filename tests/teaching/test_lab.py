"""python -m wstutorial lab: what it needs, what it serves in place, JupyterLab's first layout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_lab_without_jupyterlab_says_what_to_install(tmp_path: Path) -> None:
    """The lean install (no JupyterLab): one sentence with the pip command, exit 1, nothing copied."""
    script = (
        "import sys\n"
        "sys.modules['jupyterlab'] = None  # as if not installed: importlib.util.find_spec() gives None\n"
        "from wstutorial.cli import main\n"
        "sys.exit(main(['lab', sys.argv[1], '--no-browser']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "notebooks")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: jupyterlab is not installed for this Python (")
    assert result.stderr.rstrip().endswith('-m pip install "wstutorial[notebook]"')
    assert "Traceback" not in result.stderr and not (tmp_path / "notebooks").exists()


def test_in_place_serves_only_a_folder_of_the_tutorials_notebooks(tmp_path: Path) -> None:
    """--in-place copies nothing; a folder without notebook 00 is a sentence, exit 1, nothing written."""
    result = subprocess.run(
        [sys.executable, "-m", "wstutorial", "lab", "--in-place", str(tmp_path), "--no-browser"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {tmp_path} has no 00-setup-check.ipynb: --in-place serves")
    assert "Traceback" not in result.stderr and list(tmp_path.iterdir()) == []


def test_the_first_layout_is_written_once_and_the_students_layout_stays(tmp_path: Path) -> None:
    from wstutorial.teaching.lab import DEFAULT_WORKSPACE_FILE, FIRST_LAYOUT, prepare_workspaces

    workspaces = prepare_workspaces(tmp_path / "workspaces")
    layout = json.loads((workspaces / DEFAULT_WORKSPACE_FILE).read_text(encoding="utf-8"))
    assert layout == json.loads(FIRST_LAYOUT.read_text(encoding="utf-8"))
    assert layout["metadata"]["id"] == "default"  # the workspace every /lab/tree/... address uses
    (workspaces / DEFAULT_WORKSPACE_FILE).write_text('{"mine": true}', encoding="utf-8")
    prepare_workspaces(workspaces)
    assert (workspaces / DEFAULT_WORKSPACE_FILE).read_text(encoding="utf-8") == '{"mine": true}'
