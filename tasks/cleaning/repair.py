"""Text repair: mojibake, line endings, invisible characters, hard wraps, missing spaces."""

from __future__ import annotations

import re
import unicodedata

from ftfy import chardata, fix_text
from ftfy.badness import BADNESS_RE, MOJIBAKE_CATEGORIES

from tasks.cleaning.wraps import unwrap

# Every character one of ftfy's fixers acts on: controls and C1 bytes, line separators,
# ligatures, full-width forms, surrogates. Text without them, without HTML entities, without
# mojibake and already NFC comes out of fix_text unchanged, and ftfy works line by line at
# ~5 ms per news-sized document, so such text (most of it) skips ftfy.
_FTFY_TARGETS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"
    + "".join(
        re.escape(chr(code))
        for code in sorted({*chardata.CONTROL_CHARS, *chardata.LIGATURES, *chardata.WIDTH_MAP})
        if code > 0x9F
    )
    + "]"
)
# ftfy's mojibake test (badness.is_bad, one large regex) costs ~0.3 ms per KB of text. Each of
# its patterns needs, somewhere, one character of this class: the characters ftfy's own
# categories say mojibake is made of, and the few Cyrillic and Greek capitals its
# Windows-1251/1253 patterns pair with them. No pattern is longer than 7 characters, so only
# the text within 7 characters of one of them needs the test: an accented name in an English
# article, or the odd capital in Russian text, costs microseconds, not milliseconds.
# tests/tasks/test_repair.py checks both facts against ftfy's regex.
_MOJIBAKE_ANCHOR = (
    "["
    + "".join(
        MOJIBAKE_CATEGORIES[name]
        for name in (
            "c1",
            "bad",
            "law",
            "currency",
            "numeric",
            "kaomoji",
            "upper_accented",
            "lower_accented",
            "box",
        )
    )
    + "ЂўВГРСΒΓΞΟ]"
)
_MOJIBAKE_REACH = 7
# Anchors close enough together for their test windows to meet form one stretch.
_MOJIBAKE_STRETCH = re.compile(
    f"{_MOJIBAKE_ANCHOR}(?:[\\s\\S]{{0,{2 * _MOJIBAKE_REACH}}}?{_MOJIBAKE_ANCHOR})*"
)
# Unicode line/paragraph separators and form feeds are line breaks in disguise.
_LINE_BREAKS = re.compile(r"\r\n|\r|\u2028|\x0b|\x0c|\x85")
_PARAGRAPH_SEPARATOR = "\u2029"
# Zero-width and soft-hyphen characters are invisible but break word matching and dedupe.
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e]")
# NBSP and the other fixed-width spaces are plain spaces for our purposes; runs collapse to one.
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
# "incident.The latest": a word of 2+ lowercase letters, a period, then a capitalised word.
# Requiring two lowercase letters before the period spares "U.S.", "e.g." and "Ph.D", and
# requiring Upper+lower after it spares decimals and domain names like "example.com".
# The period comes first so that the regex engine can skip to periods instead of trying the
# lookbehind at every character (8x faster).
_MISSING_SPACE = re.compile(r"\.(?<=[a-z]{2}\.)(?=[A-Z][a-z])")
# A token that is part of a URL, path or e-mail address must never be split.
_URLISH = re.compile(r"://|www\.|@|/")
_WHITESPACE = re.compile(r"\s")


def repair_text(text: str) -> str:
    """Fix mojibake, normalise line endings, invisible characters and spaces, undo hard wraps."""
    # Keep curly quotes: they are correct typography and quote-balance checks rely on them.
    if needs_ftfy(text):
        text = fix_text(text, uncurl_quotes=False)
    text = _LINE_BREAKS.sub("\n", text).replace(_PARAGRAPH_SEPARATOR, "\n\n")
    text = _INVISIBLE.sub("", text)
    lines = [_collapse_spaces(line) for line in text.split("\n")]
    return "\n".join(unwrap(lines))


def _collapse_spaces(line: str) -> str:
    """`line` stripped, each run of spaces (NBSP and the like included) one plain space."""
    # Most lines are ASCII with single spaces, where the substitution changes nothing; isascii
    # is O(1) and the two `in` tests are far cheaper than the regex pass.
    if line.isascii() and "\t" not in line and "  " not in line:
        return line.strip()
    return _SPACES.sub(" ", line).strip()


def needs_ftfy(text: str) -> bool:
    """True unless ftfy's fix_text would return `text` unchanged (a conservative test)."""
    return bool(
        _FTFY_TARGETS.search(text)
        # unescape_html only acts on what this matches (and not on lines holding a "<").
        or chardata.HTML_ENTITY_RE.search(text)
        or looks_like_mojibake(text)
        or not unicodedata.is_normalized("NFC", text)
    )


def looks_like_mojibake(text: str) -> bool:
    """ftfy.badness.is_bad(text), testing only the stretches of text where mojibake can be."""
    for stretch in _MOJIBAKE_STRETCH.finditer(text):
        start = max(0, stretch.start() - _MOJIBAKE_REACH)
        # pos/endpos bound the search without slicing: "^" still means the start of the text.
        if BADNESS_RE.search(text, start, stretch.end() + _MOJIBAKE_REACH):
            return True
    return False


def fix_missing_spaces(text: str) -> str:
    """Insert the space lost between two sentences ("incident.The" -> "incident. The")."""
    out: list[str] = []
    last = 0
    for match in _MISSING_SPACE.finditer(text):
        start = match.start()
        left = max(text.rfind(" ", 0, start), text.rfind("\n", 0, start)) + 1
        after = _WHITESPACE.search(text, start)
        right = after.start() if after else len(text)
        if _URLISH.search(text, left, right):
            continue
        out.append(text[last : start + 1])
        out.append(" ")
        last = start + 1
    out.append(text[last:])
    return "".join(out)
