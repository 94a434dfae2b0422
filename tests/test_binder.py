"""The Binder layout: environment.yml builds before the repository is copied; postBuild installs the package."""

from __future__ import annotations

import os
import re

from helpers import ROOT


def test_environment_yml_installs_nothing_from_the_checkout() -> None:
    """repo2docker builds environment.yml before copying the repository: no '-e .' there."""
    text = (ROOT / "environment.yml").read_text()
    items = [line.strip() for line in text.splitlines() if line.strip().startswith("- ")]
    assert not [item for item in items if item.startswith("- -e") or item in ("- .", "- ./")]
    # repo2docker honours an exact Python version only.
    assert re.search(r"^  - python=3\.\d+$", text, re.MULTILINE)
    assert "- jupyter-server-proxy" in text  # the pages are reachable through /proxy/<port>/


def test_postbuild_installs_the_package() -> None:
    """postBuild, run by Binder after the copy, installs wstutorial itself."""
    post_build = ROOT / "postBuild"
    assert os.access(post_build, os.X_OK)
    assert "pip install --no-deps" in post_build.read_text() and " -e ." in post_build.read_text()
