"""The JSON message types (wstutorial/messages.py): the pages use only listed ones, and every listed one is used."""

from __future__ import annotations

import enum
import re

import pytest

from helpers import ROOT
from wstutorial.messages import PAGE_PROTOCOLS, JsonType, MessageType, TeacherAction

STATIC = ROOT / "static"
PACKAGE = ROOT / "wstutorial"

# How a page writes a type: in a message it sends ({ type: "chat", ... }, { action: "release", ... }),
# in a comparison (message.type === "pong") or as a case of `switch (message.type)`.
SENT = re.compile(r"""\b(?:type|action)\s*:\s*"([^"]*)\"""")
COMPARED = re.compile(r"""\.type\s*===?\s*"([^"]*)\"""")
CASE = re.compile(r"""\bcase\s+"([^"]*)"\s*:""")


def types_in_page(text: str) -> set[str]:
    return {match for pattern in (SENT, COMPARED, CASE) for match in pattern.findall(text)}


def test_the_patterns_find_what_a_page_writes() -> None:
    """The reader of the pages sees all three ways (so the next test cannot pass by finding nothing)."""
    page = 'ws.send(JSON.stringify({ type: "chat", text: t }));\nif (m.type === "pong") {}\nswitch (m.type) { case "welcome": break; }\nsend({ action: "release" });'
    assert types_in_page(page) == {"chat", "pong", "welcome", "release"}


@pytest.mark.parametrize("page", sorted(PAGE_PROTOCOLS))
def test_a_page_uses_only_the_listed_types(page: str) -> None:
    """Every type a page sends or handles is a member of its protocols' enums: a renamed type cannot leave a page behind."""
    found = types_in_page((STATIC / page).read_text())
    listed = {member.value for protocol in PAGE_PROTOCOLS[page] for member in protocol}
    assert found, f"{page}: no message types found; has the page's way of writing them changed?"
    assert found <= listed, f"{page} uses types that wstutorial/messages.py does not list: {sorted(found - listed)}"


def test_pages_not_listed_use_no_json_types() -> None:
    """A new page that speaks JSON types is listed in PAGE_PROTOCOLS (and so checked above)."""
    for page in sorted(STATIC.glob("*.js")):
        if page.name not in PAGE_PROTOCOLS:
            assert not types_in_page(page.read_text()), f"{page.name} uses JSON types: add it to PAGE_PROTOCOLS"


@pytest.mark.parametrize("protocol", [MessageType, TeacherAction, JsonType])
def test_every_listed_type_is_used(protocol: type[enum.StrEnum]) -> None:
    """No dead names: each member is used by the package (by name) or by one of its pages (as text)."""
    package = "\n".join(path.read_text() for path in PACKAGE.rglob("*.py") if path.name != "messages.py")
    pages = {page: types_in_page((STATIC / page).read_text()) for page in PAGE_PROTOCOLS if protocol in PAGE_PROTOCOLS[page]}
    unused = [
        member.name
        for member in protocol
        if f"{protocol.__name__}.{member.name}" not in package and not any(member.value in found for found in pages.values())
    ]
    assert not unused, f"{protocol.__name__} lists types nothing uses: {unused}"
