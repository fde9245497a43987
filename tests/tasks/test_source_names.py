"""Printable names of sources and the names they may stand for."""

from __future__ import annotations

import os

from tasks.source import named_by, printable


def test_a_non_utf8_name_is_among_the_names_its_printable_form_stands_for() -> None:
    name = os.fsdecode(b"/inbox/caf\xe9 \xff.txt")
    shown = printable(name)

    assert shown == "/inbox/caf\\xe9 \\xff.txt"
    assert named_by(shown) == {shown, name}


def test_a_utf8_name_stands_for_itself_only() -> None:
    assert named_by(printable("/inbox/café.txt")) == {"/inbox/café.txt"}


def test_a_name_with_a_backslash_of_its_own_is_still_a_candidate() -> None:
    literal = "/inbox/a\\x41.txt"  # a backslash, an x, and two digits, in the name itself
    assert printable(literal) == literal
    assert literal in named_by(literal)
