"""Unicode TS #39 confusable skeletons: do two names look alike?

The skeleton of a string (UTS #39, section 4, "Confusable Detection") is made
in four steps: NFD; remove every Default_Ignorable_Code_Point; replace each
character by its prototype from Unicode's ``confusables.txt``; NFD again. Two
strings with the same skeleton are confusable: ``Аda`` (Cyrillic ``А``) and
``Ada``, ``rn`` and ``m``, ``Ada`` and ``Ada`` followed by an invisible Hangul
filler. ICU's ``SpoofChecker.getSkeleton`` does the same; this module needs
no compiled code, so no student's platform decides whether the classroom runs.

The prototypes come from the ``confusable-homoglyphs`` package, which ships
``confusables.txt`` parsed into ``confusables.json``. That file lists each line
of ``confusables.txt`` in both directions (a character and its look-alikes),
so the direction is read back here: a string of several characters is always
a prototype (a source is one code point); a character with several
look-alikes is their prototype (prototypes are never themselves mapped:
``confusables.txt`` is idempotent); for the pairs that remain, the source is
the one the file lists first (it is written in ``confusables.txt``'s order).
``tests/test_confusables.py`` checks the result against lines of
``confusables.txt`` and against the rule that a skeleton is its own skeleton.
"""

from __future__ import annotations

import bisect
import functools
import unicodedata

__all__ = ["skeleton", "prototypes"]

# Default_Ignorable_Code_Point (Unicode's DerivedCoreProperties.txt, 15.1 and 16.0 alike):
# invisible characters that UTS #39 removes before comparing. Hangul fillers (U+115F, U+1160,
# U+3164, U+FFA0) count as letters, so a name could otherwise hide one.
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)
_IGNORABLE_STARTS = [start for start, _ in _DEFAULT_IGNORABLE]

# The JSON shows right-to-left characters as confusables.txt's comments do, between
# left-to-right marks; they are not part of the character.
_DIRECTION_MARKS = str.maketrans("", "", "\u200e\u200f")


def _default_ignorable(char: str) -> bool:
    index = bisect.bisect_right(_IGNORABLE_STARTS, ord(char)) - 1
    return index >= 0 and ord(char) <= _DEFAULT_IGNORABLE[index][1]


@functools.cache
def prototypes() -> dict[str, str]:
    """Each mapped character of ``confusables.txt`` with its prototype (one or more characters)."""
    try:
        from confusable_homoglyphs.confusables import confusables_data  # loads its JSON once; only the room needs it
    except ImportError:
        raise RuntimeError(
            "the classroom compares names with Unicode's list of look-alike characters, from the package "
            "confusable-homoglyphs, which is not installed: pip install 'wstutorial[notebook]'"
        ) from None

    first_seen: dict[str, int] = {}
    look_alikes: dict[str, list[str]] = {}
    for key, entries in confusables_data.items():
        key = key.translate(_DIRECTION_MARKS)
        first_seen.setdefault(key, len(first_seen))
        look_alikes.setdefault(key, []).extend(entry["c"].translate(_DIRECTION_MARKS) for entry in entries)
    mapping: dict[str, str] = {}
    for key, others in look_alikes.items():
        if len(key) > 1 or len(others) > 1:  # a prototype, with the characters that map to it
            mapping.update((source, key) for source in others if len(source) == 1)
    for key, others in look_alikes.items():
        if len(key) == 1 and len(others) == 1 and key not in mapping and others[0] not in mapping:
            other = others[0]  # a pair: one line of confusables.txt, source first
            source, target = (key, other) if first_seen[key] < first_seen[other] else (other, key)
            mapping[source] = target
    return mapping


def skeleton(text: str) -> str:
    """The UTS #39 skeleton of ``text``: equal skeletons look alike."""
    table = prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    mapped = "".join(table.get(char, char) for char in decomposed if not _default_ignorable(char))
    return unicodedata.normalize("NFD", mapped)
