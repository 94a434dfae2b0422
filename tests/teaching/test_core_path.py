"""The core path: 'Deeper:' headings mark what a class may skip; the counts the lesson plan uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers import ROOT
from wstutorial.teaching.core_path import count_cells, count_notebook, deeper_titles, main

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def markdown(text: str) -> dict[str, object]:
    return {"cell_type": "markdown", "source": text}


def code(text: str = "x = 1") -> dict[str, object]:
    return {"cell_type": "code", "source": text}


def test_a_deeper_section_ends_at_the_next_heading_of_its_level() -> None:
    """Words and code cells under '## Deeper: ...' count only in all, until the next '##'."""
    cells = [
        markdown("# Title\n\none two three"),  # 4 words (the '#' is none), core
        code(),
        markdown("## Deeper: rebinding\n\nfour five"),  # 4 words, deeper
        code(),
        markdown("### inside it\n\nsix"),  # 3 words, still deeper
        code(),
        markdown("## Back on the path\n\nseven eight"),  # 6 words, core
        code(),
    ]
    count = count_cells("x.ipynb", cells)
    assert (count.core_words, count.all_words) == (10, 17)
    assert (count.core_code_cells, count.all_code_cells) == (2, 4)
    assert count.deeper_words == 7
    assert str(count) == "x.ipynb: 10 of 17 words on the core path, 2 of 4 code cells"


def test_a_deeper_subsection_leaves_its_parent_on_the_path() -> None:
    """'### Deeper:' inside a core '##' section: only the subsection is deeper; the next '###' is core again."""
    cells = [
        markdown("## Core\n\na b"),
        markdown("### Deeper: more\n\nc d"),
        code(),
        markdown("### Core again\n\ne"),
        code(),
    ]
    count = count_cells("x.ipynb", cells)
    assert (count.core_words, count.all_words) == (6, 10)
    assert (count.core_code_cells, count.all_code_cells) == (1, 2)


def test_headings_in_code_blocks_and_the_word_elsewhere_do_not_count() -> None:
    """A '#' line inside a fenced block is code, not a heading; 'Deeper:' in running text marks nothing."""
    cells = [
        markdown("## Core\n\n```python\n# Deeper: a comment\n```\n\nDeeper: not a heading"),
        code("# Deeper: a code comment"),
    ]
    count = count_cells("x.ipynb", cells)
    assert count.core_words == count.all_words
    assert count.core_code_cells == 1


# The notebooks a class shortens (00, 02 and 05 are short and all core).
SHORTENED = ("01-", "03-", "04-", "06-", "07-", "08-", "09-")


def test_every_notebook_has_a_core_path_and_the_long_ones_something_deeper() -> None:
    """Each notebook has a core path; the long ones mark deeper sections."""
    for path in NOTEBOOKS:
        count = count_notebook(path)
        assert 0 < count.core_words <= count.all_words, f"{path.name}: {count}"
        if path.name.startswith(SHORTENED):
            assert deeper_titles(path), f"{path.name} marks no 'Deeper:' section"


def test_what_a_class_skips() -> None:
    """03's DNS rebinding went to 08; 03's reconnect page and 07's backpressure are deeper; 04 has no raw socket."""
    notebooks = {path.name[:2]: path for path in NOTEBOOKS}
    text = {number: path.read_text(encoding="utf-8") for number, path in notebooks.items()}
    assert "DNS rebinding" not in text["03"] and "DNS rebinding, and why the server also checks `Host`" in text["08"]
    assert "exercise: reconnect after the server restarts" in deeper_titles(notebooks["03"])
    assert "backpressure at work" in deeper_titles(notebooks["07"])
    assert "socket.create_connection" not in text["04"]


def test_the_documents_state_the_counts() -> None:
    """README's table and docs/teaching.md give each notebook's core-path words within 10 % of the count."""
    for document in ("README.md", "docs/teaching.md"):
        text = (ROOT / document).read_text(encoding="utf-8")
        for path in NOTEBOOKS:
            count = count_notebook(path)
            row = next((line for line in text.splitlines() if f"`{path.name}`" in line and "words" in line), None)
            assert row is not None, f"{document} has no line naming `{path.name}` with its words"
            core, total = (int(number.replace(",", "")) for number in re.findall(r"([\d,]+) of ([\d,]+) words", row)[0])
            assert abs(core - count.core_words) <= 0.1 * count.core_words, (document, path.name, core, count)
            assert abs(total - count.all_words) <= 0.1 * count.all_words, (document, path.name, total, count)


def test_main_prints_one_line_per_notebook(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """python -m wstutorial.teaching.core_path: a line per notebook and the totals."""
    notebook = tmp_path / "a.ipynb"
    notebook.write_text(json.dumps({"cells": [markdown("## Deeper: x\n\ny z"), markdown("# T\n\nw")]}), encoding="utf-8")
    assert main([str(notebook)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "a.ipynb: 2 of 6 words on the core path, 0 of 0 code cells",
        "all 1 notebooks: 2 of 6 words on the core path",
    ]
    assert main([]) == 2
