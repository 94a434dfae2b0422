"""The files the package carries beside its code, found in a checkout, and a clear error when one is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from wstutorial.packaged import PACKAGE, REINSTALL, MissingFile, packaged_file
from wstutorial.server.app import static_dir
from wstutorial.services.nginxproxy import config_template
from wstutorial.teaching.notebook_files import notebooks_source
from wstutorial.tools.notes import notes_file

CHECKOUT = Path(__file__).resolve().parents[1]


def test_each_carried_file_is_found_at_the_top_of_the_checkout() -> None:
    # In the test venv the package is this checkout (an editable install); the
    # installed wheel's own folders are tested in tests/test_packaging.py.
    assert static_dir() == CHECKOUT / "static"
    assert notebooks_source() == CHECKOUT / "notebooks"
    assert config_template() == CHECKOUT / "deploy" / "nginx" / "wstutorial.conf"
    assert notes_file() == CHECKOUT / "docs" / "teaching.md"


def test_a_missing_file_names_what_it_is_both_places_and_the_repair() -> None:
    with pytest.raises(MissingFile) as raised:
        packaged_file("static/no-such-page.html", "the tutorial's pages")
    message = str(raised.value)
    assert message == (
        f"the tutorial's pages (static/no-such-page.html) not found, neither in {PACKAGE / 'static'} "
        f"nor in {PACKAGE.parent / 'static'}; {REINSTALL}"
    )
    assert isinstance(raised.value, FileNotFoundError)  # what callers that know no better catch
