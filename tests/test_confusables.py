"""UTS #39 confusable skeletons, without ICU: Unicode's definition, checked on Unicode's own lines."""

from __future__ import annotations

import unicodedata

import pytest

from wstutorial.chatrules import NameRejected, name_key, validate_name
from wstutorial.confusables import prototypes, skeleton

# Lines of Unicode's confusables.txt (source ; prototype), as the file writes them.
CONFUSABLES_TXT = """
0430 ; 0061 ;	MA	# ( а → a ) CYRILLIC SMALL LETTER A → LATIN SMALL LETTER A
0410 ; 0041 ;	MA	# ( А → A ) CYRILLIC CAPITAL LETTER A → LATIN CAPITAL LETTER A
0391 ; 0041 ;	MA	# ( Α → A ) GREEK CAPITAL LETTER ALPHA → LATIN CAPITAL LETTER A
1D400 ; 0041 ;	MA	# ( 𝐀 → A ) MATHEMATICAL BOLD CAPITAL A → LATIN CAPITAL LETTER A
FF21 ; 0041 ;	MA	# ( Ａ → A ) FULLWIDTH LATIN CAPITAL LETTER A → LATIN CAPITAL LETTER A
006D ; 0072 006E ;	MA	# ( m → rn ) LATIN SMALL LETTER M → LATIN SMALL LETTER R, LATIN SMALL LETTER N
0031 ; 006C ;	MA	# ( 1 → l ) DIGIT ONE → LATIN SMALL LETTER L
0049 ; 006C ;	MA	# ( I → l ) LATIN CAPITAL LETTER I → LATIN SMALL LETTER L
0030 ; 004F ;	MA	# ( 0 → O ) DIGIT ZERO → LATIN CAPITAL LETTER O
05AD ; 0596 ;	MA	# ( ֭ → ֖ ) HEBREW ACCENT DEHI → HEBREW ACCENT TIPEHA
0627 ; 006C ;	MA	# ( ‎ا‎ → l ) ARABIC LETTER ALEF → LATIN SMALL LETTER L
FE8E ; 006C ;	MA	# ( ‎ﺎ‎ → l ) ARABIC LETTER ALEF FINAL FORM → LATIN SMALL LETTER L
"""


def unicode_lines() -> list[tuple[str, str]]:
    pairs = []
    for line in CONFUSABLES_TXT.strip().splitlines():
        source, target, _ = (field.strip() for field in line.split("#")[0].split(";"))
        pairs.append((chr(int(source, 16)), "".join(chr(int(code, 16)) for code in target.split())))
    return pairs


@pytest.mark.parametrize(("source", "target"), unicode_lines())
def test_each_character_maps_to_its_prototype_as_confusables_txt_says(source: str, target: str) -> None:
    """The direction of every mapping is read back right, right-to-left letters included."""
    assert prototypes()[source] == target


def test_the_skeleton_is_unicodes_definition() -> None:
    """skeleton = NFD, drop Default_Ignorable_Code_Point, map each character to its prototype, NFD (UTS #39, 4)."""
    table = prototypes()
    for text in ["Аda", "paypal", "ℌ𝔢𝔩𝔩𝔬", "Zoë", "Ǆ", "Ada\u3164", "x\u00ady"]:
        mapped = "".join(table.get(c, c) for c in unicodedata.normalize("NFD", text) if c not in "\u3164\u00ad")
        assert skeleton(text) == unicodedata.normalize("NFD", mapped)
    assert skeleton("Zoë") == "Zoe\u0308"  # the diaeresis stays: Zoë is not Zoe
    assert skeleton("Ada\u3164") == "Ada" and skeleton("x\u00ady") == "xy"  # invisible: removed


def test_no_prototype_is_mapped_again() -> None:
    """confusables.txt is idempotent (a prototype is never a source): so no direction was read backwards."""
    table = prototypes()
    assert len(table) > 6000
    for source, target in table.items():
        assert len(source) == 1 and all(char not in table for char in target), (source, target)


@pytest.mark.parametrize(
    ("name", "other"),
    [("Аda", "Ada"), ("Αda", "Ada"), ("𝐀da", "Ada"), ("Ａｄａ", "Ada"), ("Adа", "ADA"), ("Kim", "Kirn"),
     ("Al", "A1"), ("Ada\u3164", "Ada"), ("Ada\u1160", "ada"), ("Ｓｅｂ", "Seb")],
)
def test_look_alike_names_have_one_key(name: str, other: str) -> None:
    assert name_key(name) == name_key(other)


@pytest.mark.parametrize(
    ("name", "other"),
    [("Ada", "Adam"), ("Bob", "Rob"), ("Anna", "Anne"), ("José", "Jose"), ("Zoë", "Zoe"), ("Lin", "Liu"),
     ("Ана", "Ada"), ("Αλέξης", "Alexis"), ("李", "季")],
)
def test_different_names_keep_different_keys(name: str, other: str) -> None:
    assert name_key(name) != name_key(other)


def test_a_name_with_an_invisible_filler_cannot_join_next_to_the_same_name() -> None:
    """A Hangul filler is a letter to str.isalnum() and invisible on screen: the skeleton drops it."""
    with pytest.raises(NameRejected, match="looks like 'Ada', who is in the room"):
        validate_name("Ada\u3164", taken=["Ada"])
    assert validate_name("Ada L.", taken=["Ada"]) == "Ada L."
