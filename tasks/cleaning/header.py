"""The article header: section labels, title line, date line and byline at the top of a file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import dateparser

from tasks.cleaning.boilerplate import is_related_heading
from tasks.cleaning.paragraphs import DANGLING_END

# Headers are a handful of lines; anything further down is body text.
_MAX_HEADER_LINES = 8
# Section labels sit in the first few lines, before the title.
_MAX_SECTION_POSITION = 3
_MAX_TITLE_LEN = 150
_MAX_TITLE_WORDS = 20
_DATE_SETTINGS = {"DATE_ORDER": "DMY"}
# dateparser costs ~2.5 ms a call (it tries its whole repertoire); the complete dates scrapers
# print most often parse with strptime in microseconds, to the same result
# (tests/tasks/test_header_dates.py compares the two). Anything else goes to dateparser.
FAST_DATE_FORMATS = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%A, %d %B %Y",
    "%d %B %Y, %H:%M",
    "%d %B %Y %H:%M",
    "%d %b %Y %H:%M",
    "%d %b %Y %I:%M %p",
    "%d %B %Y %I:%M %p",
)

# "World", "Business", "Middle East", "US & Canada": one or two capitalised words, nothing else.
_SECTION_LABEL = re.compile(r"^[A-Z][A-Za-z'’-]{1,20}(?:\s+(?:&\s+)?[A-Z][A-Za-z'’-]{1,20})?$")
# Interview transcripts ("Q: What now?") have short lines that are not headlines.
_SPEAKER_TURN = re.compile(r"^[QA]:\s")
# "Published : 02 Jun 2025 09:29 PM", "Updated: ...", "Published on June 2, 2025".
_LABELLED_DATE = re.compile(
    r"^(?P<label>(?:first\s+)?published|posted|last\s+updated|updated|last\s+modified|modified)"
    r"(?:\s+on)?\s*[:|\-–—]?\s*(?P<date>.*\d.*)$",
    re.IGNORECASE,
)
# A second label on the same line ("Published: X | Updated: Y") ends the first date.
_NEXT_LABEL = re.compile(r"\s*[|·•,]?\s*\b(?:last\s+)?(?:updated|modified)\b.*$", re.IGNORECASE)
# Only absolute dates count: "Updated 5 hours ago" would date the story by the clock at cleaning.
_ABSOLUTE_DATE = re.compile(
    r"\b\d{4}\b|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2}\b"
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"\s*[|·•]\s*")
_MONTH = (
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"  # names or abbreviations
)
_WEEKDAY = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?,?\s+"
_TIME = r"(?:[,\s|–-]+(?:at\s+)?\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s+[A-Z]{2,5})?)?"
# A line that is nothing but a date (and maybe a time), e.g. "June 2, 2025" or "2025-06-02".
_BARE_DATE = re.compile(
    rf"^(?:{_WEEKDAY})?(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}){_TIME}$",
    re.IGNORECASE,
)
# "By Jane Doe", "By Jane Doe and John Roe, Reuters": capitalised names only, no sentence.
_NAME = r"[A-Z][\w.'’-]*(?:\s+(?:de|van|von|der|da|al|bin|la|le)?\s*[A-Z][\w.'’-]*){0,4}"
_BYLINE = re.compile(
    rf"^By\s+(?P<author>{_NAME}(?:(?:\s*,\s*|\s+and\s+|\s*&\s*|\s*\|\s*){_NAME})*)$"
)
# A title does not end like a sentence or like a cut-off line (CJK and Arabic marks too).
_TITLE_BAD_END = re.compile(r"[.,;:\-–—。．，、；：،؛][”\"’')\]」』]*$")
# Titles start with a capital or a digit, in any script ("Самые...", "2018 Boys..."), or
# with a letter of a script that has no case (Arabic, Chinese, Japanese, Korean).
_TITLE_START = re.compile(r"^[\"“‘'(\[]?(?P<first>\w)")


@dataclass
class Header:
    """What the header scan found, and which lines it took out (by reason)."""

    title: str | None = None
    section: str | None = None
    author: str | None = None
    published: datetime | None = None
    published_is_label: bool = False
    """Whether `published` came from a "Published" label (beats an "Updated" one)."""
    removed: dict[str, list[str]] = field(default_factory=dict)

    def offer_date(self, date: datetime | None, is_publication: bool) -> None:
        """Keep the first date, unless a "Published" date turns up after an "Updated" one."""
        if date is None:
            return
        if self.published is None or (is_publication and not self.published_is_label):
            self.published = date
            self.published_is_label = is_publication

    def take(self, reason: str, line: str) -> None:
        """Record a header line as removed from the body."""
        self.removed.setdefault(reason, []).append(line)


def parse_date(text: str) -> datetime | None:
    """Parse the date part of a date line; None when it is not a date."""
    if text[:1].isalnum():
        for fmt in FAST_DATE_FORMATS:
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
    parsed: datetime | None = dateparser.parse(text, languages=["en"], settings=_DATE_SETTINGS)
    return parsed


def match_date_line(line: str) -> tuple[datetime | None, bool] | None:
    """(date, is_publication) of a line like "Published: 2 June 2025"; None date if relative."""
    match = _LABELLED_DATE.match(line)
    if not match or len(line) > 80:
        return None
    # dateparser needs the bare date: the label or a second "Updated" part makes it return None.
    date_text = _SEPARATORS.sub(" ", _NEXT_LABEL.sub("", match["date"])).strip()
    parsed = parse_date(date_text)
    if parsed is None:
        return None
    label = match["label"].lower()
    if not _ABSOLUTE_DATE.search(date_text):
        return None, False
    return parsed, not ("updated" in label or "modified" in label)


def match_bare_date(line: str) -> datetime | None:
    """The date of a line that is only a date, e.g. "June 2, 2025"."""
    if not _BARE_DATE.match(line):
        return None
    return parse_date(_SEPARATORS.sub(" ", line))


def match_byline(line: str) -> str | None:
    """The author named by a "By ..." line, or None."""
    match = _BYLINE.match(line) if len(line) <= 100 else None
    return _SEPARATORS.sub(", ", match["author"]).strip() if match else None


def is_section_label(line: str) -> bool:
    """True for a lone one-or-two-word capitalised label like "World" or "Middle East"."""
    return bool(_SECTION_LABEL.match(line))


def is_title_line(line: str, next_line: str | None) -> bool:
    """True for a short headline-like line, not a sentence cut by a hard line break."""
    if len(line) > _MAX_TITLE_LEN or len(line.split()) > _MAX_TITLE_WORDS:
        return False
    start = _TITLE_START.match(line)
    first = start["first"] if start else ""
    if not (first.isupper() or first.isdigit() or (first.isalpha() and not first.islower())):
        return False
    if _TITLE_BAD_END.search(line) or _SPEAKER_TURN.match(line):
        return False
    # A title heads something: a short last line is a paragraph of its own, not a title.
    if next_line is None:
        return False
    # A dangling "on"/"the"/comma, or a next line starting lowercase, means this line is the
    # first half of a sentence broken by a hard line break.
    return not (DANGLING_END.search(line) or next_line[0].islower())


def _is_header_line(line: str) -> bool:
    """True for a line that could be part of a header other than a section label."""
    return bool(_LABELLED_DATE.match(line) or _BARE_DATE.match(line) or _BYLINE.match(line))


def extract_header(lines: list[str]) -> tuple[Header, list[str]]:
    """Take section labels, title, date and byline from the top; return them and the rest."""
    header = Header()
    content = [line for line in lines if line]
    position = 0
    while position < len(content) and position < _MAX_HEADER_LINES:
        line = content[position]
        following = content[position + 1] if position + 1 < len(content) else None
        if is_related_heading(line):
            break  # a links block at the very top: its headlines are not our title
        if dated := match_date_line(line) or _bare(line):
            header.offer_date(*dated)
            header.take("date_line", line)
        elif header.author is None and (author := match_byline(line)):
            header.author = author
            header.take("byline", line)
        elif (
            header.title is None
            and position < _MAX_SECTION_POSITION
            and following is not None
            and is_section_label(line)
            # The first label is the section; a later one only if a title still follows it
            # (otherwise "World" then "Ukraine Talks": the second line is the title).
            and (header.section is None or _title_follows(content, position + 1))
        ):
            header.section = header.section or line
            header.take("section_label", line)
        elif header.title is None and is_title_line(line, following):
            header.title = line
            header.take("title_line", line)
        else:
            break
        position += 1
    return header, content[position:]


def _bare(line: str) -> tuple[datetime, bool] | None:
    """match_bare_date shaped like match_date_line."""
    parsed = match_bare_date(line)
    return (parsed, True) if parsed else None


def _title_follows(content: list[str], start: int) -> bool:
    """True when a title line comes after the section labels/dates/bylines from `start`."""
    for position in range(start, min(len(content), _MAX_HEADER_LINES)):
        line = content[position]
        if _is_header_line(line):
            continue
        # Another label ("World" then "Europe") counts only if a title still follows it.
        if is_section_label(line) and _title_follows(content, position + 1):
            return True
        following = content[position + 1] if position + 1 < len(content) else None
        return is_title_line(line, following)
    return False
