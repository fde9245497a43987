"""Unit tests for the content hash used as the document id."""

from __future__ import annotations

import re

import pytest

from tasks.dedupe import content_id

BASE = "The first finance report was filed on Monday by the city council."


@pytest.mark.parametrize(
    "variant",
    [
        "THE FIRST FINANCE REPORT WAS FILED ON MONDAY BY THE CITY COUNCIL.",
        "  The first   finance report\nwas filed\ton Monday by the city council.  \n",
        "The \ufb01rst \ufb01nance report was filed on Monday by the city council.",  # ligature
        "The\u00a0first finance report was filed on Monday\u00a0by the city council.",  # NBSP
        "The first finance report was filed on Monday by the city council\uff0e",  # fullwidth .
    ],
)
def test_equivalent_forms_share_an_id(variant: str) -> None:
    assert variant != BASE
    assert content_id(variant) == content_id(BASE)


def test_casefold_handles_sharp_s() -> None:
    assert content_id("Die Straße ist lang.") == content_id("DIE STRASSE IST LANG.")


def test_one_word_change_changes_the_id() -> None:
    assert content_id(BASE) != content_id(BASE.replace("Monday", "Tuesday"))


def test_word_boundary_matters() -> None:
    # Whitespace is collapsed, not removed.
    assert content_id("note book") != content_id("notebook")


def test_id_is_64_lowercase_hex() -> None:
    doc_id = content_id(BASE)
    assert re.fullmatch(r"[0-9a-f]{64}", doc_id)


def test_id_is_stable() -> None:
    # SHA-256 of the normalised text "abc".
    assert content_id("  ABC ") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
