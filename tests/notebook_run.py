"""Run a notebook in a real Jupyter kernel with parameters, as papermill does (for tests).

The parameters go into a new cell right after the cell tagged
``parameters``; the notebook on disk is not changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

__all__ = ["run_with_parameters", "outputs", "text_of", "NOTEBOOKS"]

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
# A bound, not an expectation: a cell of the tutorial takes seconds at most.
CELL_TIMEOUT = 120


def run_with_parameters(name: str, **parameters: Any) -> nbformat.NotebookNode:
    """Execute notebook ``name`` (in notebooks/) in a fresh kernel with ``parameters`` set; return it with its outputs."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    index = next(i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", []))
    injected = nbformat.v4.new_code_cell("\n".join(f"{key} = {value!r}" for key, value in parameters.items()))
    injected.metadata["tags"] = ["injected-parameters"]
    notebook.cells.insert(index + 1, injected)
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    return notebook


def outputs(notebook: nbformat.NotebookNode) -> list[dict[str, Any]]:
    """Every output of every code cell, in order."""
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]


def text_of(output: dict[str, Any]) -> str:
    """An output's text (stream text or the text/plain of a result)."""
    return str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", ""))
