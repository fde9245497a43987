"""Text repair: when ftfy may be skipped, and the windowed mojibake test that decides it."""

from __future__ import annotations

import re
import re._constants as sre_constants
import re._parser as sre_parser

import pytest
from ftfy import fix_text
from ftfy.badness import BADNESS_RE, is_bad

from tasks.cleaning.repair import (
    _MOJIBAKE_ANCHOR,
    _MOJIBAKE_REACH,
    fix_missing_spaces,
    looks_like_mojibake,
    needs_ftfy,
)


def _item_chars(op: object, value: object) -> set[str] | None:
    """The characters one parsed regex item matches, if it is a plain set of them."""
    if op is sre_constants.LITERAL:
        assert isinstance(value, int)
        return {chr(value)}
    if op is not sre_constants.IN:
        return None
    chars: set[str] = set()
    assert isinstance(value, list)
    for kind, member in value:
        if kind is sre_constants.LITERAL:
            chars.add(chr(member))
        elif kind is sre_constants.RANGE:
            chars.update(map(chr, range(member[0], member[1] + 1)))
        else:  # NEGATE, CATEGORY (\s, \w): open-ended
            return None
    return chars


def _badness_branches() -> list[sre_parser.SubPattern]:
    """The alternatives of ftfy's mojibake regex."""
    assert not BADNESS_RE.flags & re.IGNORECASE
    parsed = sre_parser.parse(BADNESS_RE.pattern, BADNESS_RE.flags)
    [(op, (_, branches))] = list(parsed)
    assert op is sre_constants.BRANCH
    return list(branches)


def test_every_mojibake_pattern_needs_an_anchor_character() -> None:
    """The fact looks_like_mojibake rests on: each pattern has a position only anchors fill."""
    [(op, value)] = list(sre_parser.parse(_MOJIBAKE_ANCHOR))
    anchors = _item_chars(op, value)
    assert anchors
    for branch in _badness_branches():
        positions = [_item_chars(op, value) for op, value in branch]
        assert any(chars and chars <= anchors for chars in positions), branch


def test_no_mojibake_pattern_is_longer_than_the_reach() -> None:
    assert sre_parser.parse(BADNESS_RE.pattern, BADNESS_RE.flags).getwidth()[1] <= _MOJIBAKE_REACH


MOJIBAKE = ["â€™", "Ã©", "Ã ", "ÃƒÂ©", "вЂ™", "Ð¿Ñ€Ð¸Ð²ÐµÑ‚", "Â£5", "Ã¼ber", "\x85", "Γ€™"]
CLEAN = [
    "The minister’s “plan” is ready — at last…",
    "José Mourinho met Zoë Ball in Zürich; Łódź and Ærø were next.",
    "Президент России выступил в Москве. Сегодня Владимир Путин сказал «да».",
    "Η Αθήνα και η Θεσσαλονίκη. 東京は晴れ。",
    "Prices rose 3½% to £12 (about €14), ±2°C.",
    "",
]


@pytest.mark.parametrize("text", MOJIBAKE + CLEAN)
@pytest.mark.parametrize("where", ["alone", "start", "middle", "end", "lines"])
def test_looks_like_mojibake_agrees_with_ftfy(text: str, where: str) -> None:
    filler = "An ordinary sentence of plain English text, long enough to split windows. " * 3
    placed = {
        "alone": text,
        "start": text + filler,
        "middle": filler + text + filler,
        "end": filler + text,
        "lines": f"{filler}\n{text}\n{filler}",
    }[where]
    assert looks_like_mojibake(placed) == is_bad(placed)


def test_looks_like_mojibake_agrees_with_ftfy_on_mixed_text() -> None:
    pieces = [*MOJIBAKE, *CLEAN, "plain words", "\n", " "]
    for start in range(len(pieces)):
        text = " ".join(pieces[start:] + pieces[:start])
        assert looks_like_mojibake(text) == is_bad(text)


@pytest.mark.parametrize(
    "text",
    [
        "AT&T and Johnson & Johnson: R&D up 5%.",
        "José said “no” — twice…",
        "Президент выступил в Москве.",
        "東京は晴れ。",
    ],
)
def test_text_ftfy_would_not_change_skips_it(text: str) -> None:
    assert not needs_ftfy(text)
    assert fix_text(text, uncurl_quotes=False) == text


@pytest.mark.parametrize(
    "text",
    ["Fish &amp; chips", "caf&eacute;", "itâ€™s", "ﬁnance", "ＬＯＵＤ", "a\x85b", "e\u0301"],
)
def test_text_ftfy_would_change_goes_to_ftfy(text: str) -> None:
    assert needs_ftfy(text)
    assert fix_text(text, uncurl_quotes=False) != text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the incident.The latest", "the incident. The latest"),
        ("in the U.S.The", "in the U.S.The"),
        ("see www.example.com.Then", "see www.example.com.Then"),
        ("a.Bc", "a.Bc"),
        ("ab.Cd and xy.Zw", "ab. Cd and xy. Zw"),
    ],
)
def test_fix_missing_spaces(text: str, expected: str) -> None:
    assert fix_missing_spaces(text) == expected
