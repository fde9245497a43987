"""Paragraph-level rules: re-join sentences cut by hard breaks, drop repeats, first sentence."""

from __future__ import annotations

import re

from tasks.cleaning.boilerplate import is_prose

# A paragraph that ends like this is complete; anything else was probably cut mid-sentence.
TERMINAL = re.compile(r"[.!?:…”\"’)\]]$")
# A paragraph ending in a comma or a function word was certainly cut mid-sentence.
DANGLING_END = re.compile(
    r"(?:,|\b(?:the|a|an|of|to|and|or|but|in|on|at|for|with|by|from|that|as|into|than))$"
)
# Very short paragraphs ("Thank you.", "Yes.") legitimately repeat in interviews.
_MIN_DEDUPE_CHARS = 25
# A repeated sentence-like paragraph is a scraping copy. Headings, list items and lone
# questions recur in real articles (an interviewer's question to each guest, the same items
# in each day of a meal plan), so they go only inside a long run of copies that is largely
# prose, such as a whole body printed twice (seed 000).
_COPIED_RUN_CHARS = 500
_COPIED_RUN_PROSE_SHARE = 0.3
# Candidate sentence ends: terminal punctuation, optional closing quotes, then a space.
_SENTENCE_BREAK = re.compile(r"[.!?…][”\"’')\]]*(?=\s+[“\"‘'(\[]?[A-Z0-9])")
# Abbreviations after which a period does not end the sentence.
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "gen", "col", "lt", "sgt", "capt", "rep"}
    | {"sen", "gov", "pres", "rev", "inc", "ltd", "co", "corp", "no", "vs", "etc", "approx"}
    | {"dept", "est", "fig", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept"}
    | {"oct", "nov", "dec"}
)
_TITLE_MAX_CHARS = 120


def _opens_quote(text: str) -> bool:
    """True when a paragraph leaves a quotation open (more opening than closing marks)."""
    if text.count("“") > text.count("”"):
        return True
    return "“" not in text and text.count('"') % 2 == 1


def _closes_quote(text: str) -> bool:
    """True when a paragraph closes a quotation it did not open (a continuation)."""
    if text.startswith(("“", '"')):
        # A new paragraph that re-opens the quote is the normal multi-paragraph convention.
        return False
    closing = text.find("”")
    opening = text.find("“")
    if closing != -1 and (opening == -1 or closing < opening):
        return True
    return "“" not in text and "”" not in text and text.count('"') % 2 == 1


def continues(previous: str, following: str) -> bool:
    """True when `following` is the rest of a sentence or quotation cut off at `previous`."""
    if not previous or not following:
        return False
    if not TERMINAL.search(previous) and (following[0].islower() or DANGLING_END.search(previous)):
        return True
    return _opens_quote(previous) and _closes_quote(following)


def join_broken(paragraphs: list[str]) -> list[str]:
    """Re-join paragraphs split by a hard line break in the middle of a sentence or quote."""
    joined: list[str] = []
    for paragraph in paragraphs:
        if joined and continues(joined[-1], paragraph):
            joined[-1] = f"{joined[-1]} {paragraph}"
        else:
            joined.append(paragraph)
    return joined


def dedupe_key(paragraph: str) -> str:
    """Whitespace- and case-insensitive identity of a paragraph."""
    # split() breaks on exactly the characters \s matches, at a quarter of a regex sub's cost.
    return " ".join(paragraph.split()).casefold()


def drop_repeats(paragraphs: list[str]) -> tuple[list[str], list[str]]:
    """Split paragraphs into (first occurrences, later copies)."""
    first: dict[str, str] = {}
    originals: list[str | None] = []  # the first occurrence of each repeated paragraph
    for paragraph in paragraphs:
        key = dedupe_key(paragraph)
        original = first.get(key)
        # A short line inside a run of copies is part of the copy ("Path A: Iceland" in a
        # repeated body); on its own it may be a legitimate refrain ("Thank you.").
        in_run = bool(originals) and originals[-1] is not None
        long_enough = len(key) >= _MIN_DEDUPE_CHARS or in_run
        originals.append(original if original is not None and long_enough else None)
        first.setdefault(key, paragraph)
    drop = [False] * len(paragraphs)
    start = 0
    while start < len(paragraphs):
        end = start
        while end < len(paragraphs) and originals[end] is not None:
            end += 1
        run = [o for o in originals[start:end] if o is not None]
        total = sum(len(o) for o in run)
        prose = sum(len(o) for o in run if is_prose(o))
        copied_run = total >= _COPIED_RUN_CHARS and prose >= _COPIED_RUN_PROSE_SHARE * total
        for position, original in enumerate(run, start):
            # Judge the first occurrence: a copy may have lost its case ("THE COUNCIL...").
            drop[position] = copied_run or (
                len(original) >= _MIN_DEDUPE_CHARS and is_prose(original)
            )
        start = end + 1
    kept = [p for p, dropped in zip(paragraphs, drop, strict=True) if not dropped]
    repeats = [p for p, dropped in zip(paragraphs, drop, strict=True) if dropped]
    return kept, repeats


def first_sentence(text: str) -> str:
    """The first sentence of `text`, skipping periods of abbreviations, initials and "U.S."."""
    # A sentence never runs across a paragraph break.
    text = text.split("\n\n", 1)[0]
    for match in _SENTENCE_BREAK.finditer(text):
        word = text[: match.start()].rsplit(None, 1)[-1] if match.start() else ""
        bare = word.lstrip("(“\"'‘").lower()
        # "U.S." / "e.g." (inner period), "J." (an initial) or "Mr." do not end a sentence.
        if "." in bare or len(bare) == 1 or bare in _ABBREVIATIONS:
            continue
        return text[: match.end()].strip()
    return text.strip()


def title_from_sentence(sentence: str) -> str:
    """A title from a sentence: trailing period dropped, cut on a word boundary at ~120 chars."""
    sentence = sentence.strip()
    if sentence.endswith(".") and not sentence.endswith(".."):
        sentence = sentence[:-1]
    if len(sentence) <= _TITLE_MAX_CHARS:
        return sentence
    cut = sentence[: _TITLE_MAX_CHARS + 1].rsplit(" ", 1)[0].rstrip(" ,;:-–—")
    return f"{cut}…"
