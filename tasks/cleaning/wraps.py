"""Hard wraps: lines cut at a fixed column by the tool that saved the text, re-joined."""

from __future__ import annotations

from tasks.cleaning.boilerplate import is_junk_line, is_related_heading
from tasks.cleaning.header import match_bare_date, match_byline, match_date_line
from tasks.cleaning.paragraphs import TERMINAL

# Plain-text tools wrap at 60-100 columns (72, 76, 78 and 80 are usual); longer lines are
# paragraphs saved one per line, as in seed 000, and are never re-joined.
_MIN_WIDTH = 60
_MAX_WIDTH = 100
# A wrapped line is filled to within a word's length of the width.
_FILLED_SLACK = 12
# Wrapping fills most lines of every multi-line paragraph: require several filled lines, and
# a fair share of all lines, before treating the file as wrapped.
_MIN_FILLED_LINES = 3
_MIN_FILLED_SHARE = 0.2
# Wraps fall mostly mid-sentence; lines that all end in a full stop are one paragraph each
# (seed 000's layout), however even their lengths.
_MIN_MID_SENTENCE_SHARE = 0.5


def wrap_width(lines: list[str]) -> int | None:
    """The column the text was hard-wrapped at, or None when it does not look wrapped."""
    lengths = [len(line) for line in lines if line]
    if not lengths:
        return None
    width = max(lengths)
    if not _MIN_WIDTH <= width <= _MAX_WIDTH:
        return None
    filled = [line for line in lines if len(line) >= width - _FILLED_SLACK]
    if len(filled) < _MIN_FILLED_LINES or len(filled) < _MIN_FILLED_SHARE * len(lengths):
        return None
    mid_sentence = sum(1 for line in filled if not TERMINAL.search(line))
    return width if mid_sentence >= _MIN_MID_SENTENCE_SHARE * len(filled) else None


def stands_alone(line: str) -> bool:
    """True for a line that is furniture of its own (widget, date, byline, links heading)."""
    return bool(
        is_junk_line(line)
        or is_related_heading(line)
        or match_date_line(line)
        or match_bare_date(line)
        or match_byline(line)
    )


def unwrap(lines: list[str]) -> list[str]:
    """Re-join lines of a hard-wrapped text where the break was forced by the width."""
    width = wrap_width(lines)
    if width is None:
        return lines
    out: list[str] = []
    previous = ""  # the last physical line, not the joined paragraph
    for line in lines:
        # A wrapping tool breaks only when the next word does not fit; where it would have
        # fitted, the break was in the text (a short last line, a heading, a list item).
        forced = bool(previous and line) and len(previous) + 1 + len(line.split()[0]) > width
        if forced and not stands_alone(line) and not stands_alone(previous):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
        previous = line
    return out
