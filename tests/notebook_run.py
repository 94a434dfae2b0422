"""Run a notebook in a real Jupyter kernel with parameters, as papermill does (for tests).

The parameters go into a new cell right after the cell tagged
``parameters``; the notebook on disk is not changed.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import nbformat
from nbclient import NotebookClient

from helpers import ROOT

__all__ = ["run_with_parameters", "outputs", "text_of", "NOTEBOOKS"]

NOTEBOOKS = ROOT / "notebooks"
# A bound, not an expectation: a cell of the tutorial takes seconds at most.
CELL_TIMEOUT = 120


def run_with_parameters(
    name: str, *, then: Sequence[str] = (), after_run_all: Callable[[], None] | None = None, **parameters: Any
) -> nbformat.NotebookNode:
    """Execute notebook ``name`` (in notebooks/) in a fresh kernel with ``parameters`` set; return it with its outputs.

    ``after_run_all`` is called once every cell ran, while the kernel still
    runs; then each code of ``then`` runs as a new cell in the same kernel
    (what a student does after Run All). The kernel ends when this returns.
    """
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    index = next(i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", []))
    injected = nbformat.v4.new_code_cell("\n".join(f"{key} = {value!r}" for key, value in parameters.items()))
    injected.metadata["tags"] = ["injected-parameters"]
    notebook.cells.insert(index + 1, injected)
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}})
    if not then and after_run_all is None:
        client.execute()
        return notebook
    with client.setup_kernel():
        assert client.kc is not None
        info = client.wait_for_reply(client.kc.kernel_info())
        notebook.metadata["language_info"] = info["content"]["language_info"]
        for number, cell in enumerate(list(notebook.cells)):
            client.execute_cell(cell, number)
        if after_run_all is not None:
            after_run_all()
        for code in then:
            notebook.cells.append(nbformat.v4.new_code_cell(code))
            client.execute_cell(notebook.cells[-1], len(notebook.cells) - 1)
    return notebook


def outputs(notebook: nbformat.NotebookNode) -> list[dict[str, Any]]:
    """Every output of every code cell, in order."""
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]


def text_of(output: dict[str, Any]) -> str:
    """An output's text (stream text or the text/plain of a result)."""
    return str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", ""))
