"""Unit tests for the line normalisation and hash behind per-source boilerplate."""

from __future__ import annotations

import re

import pytest

from tasks.boilerplate_memory import line_hash, normalise_line


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("Sign Up For Our NEWSLETTER", "sign up for our newsletter"),
        ("  Home \t|  News\n| Sport  ", "home | news | sport"),
        ("© 2024 Example Media", "© 2024 example media"),
        ("Page 12 of 345", "page 12 of 345"),
        ("Die Straße", "die strasse"),
        ("\uff11\uff12 items", "12 items"),  # fullwidth digits, folded by NFKC
        ("Arabic-Indic \u0663\u0664", "arabic-indic \u0663\u0664"),
        ("non\u00a0breaking", "non breaking"),
        ("", ""),
        ("   \n\t ", ""),
    ],
)
def test_normalise_line(raw: str, normal: str) -> None:
    assert normalise_line(raw) == normal


def test_the_same_footer_shares_a_hash() -> None:
    assert line_hash("© 2024 Example Media. All rights reserved.") == line_hash(
        "©  2024 example media.  ALL rights reserved."
    )


def test_lines_that_differ_in_their_numbers_differ() -> None:
    # Templated reports differ only in their figures: each is a line of its own.
    assert line_hash("The index closed at 4013.01 points on day 1") != line_hash(
        "The index closed at 4020.55 points on day 2"
    )
    assert line_hash("© 2024 Example Media") != line_hash("© 2025 Example Media")


def test_different_words_differ() -> None:
    assert line_hash("Sign up for our newsletter") != line_hash("Sign up for our podcast")


def test_word_boundaries_matter() -> None:
    # Whitespace is collapsed, not removed.
    assert line_hash("note book") != line_hash("notebook")


def test_hash_is_16_lowercase_hex() -> None:
    assert re.fullmatch(r"[0-9a-f]{16}", line_hash("Read more"))


def test_hash_is_stable() -> None:
    # BLAKE2b with an 8-byte digest of "read more": pinned so stored counts stay valid.
    assert line_hash("  READ   More ") == line_hash("read more")
    assert line_hash("read more") == "8b352981ba857e57"
