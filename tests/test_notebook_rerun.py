"""Notebook 01 promises that re-running any cell is safe: run every code cell twice."""

from __future__ import annotations

import copy

import nbformat
from nbclient import NotebookClient

from helpers import ROOT

NOTEBOOK = ROOT / "notebooks" / "01-hello-server.ipynb"


def test_every_cell_of_01_can_run_twice() -> None:
    """Each code cell runs again right after itself without an error (no 'Address already in use')."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    doubled = []
    for cell in notebook.cells:
        doubled.append(cell)
        if cell.cell_type == "code":
            again = copy.deepcopy(cell)
            again["id"] = f"{cell['id']}-again"
            doubled.append(again)
    notebook.cells = doubled
    # Raises CellExecutionError, naming the cell, if any run fails.
    NotebookClient(notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.get("name") == "stderr" or output.output_type == "error"]
