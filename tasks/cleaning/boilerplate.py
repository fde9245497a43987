"""Page furniture that is not article text: widget lines and related-links blocks."""

from __future__ import annotations

import re

# Lines longer than this are prose, whatever words they start with; widgets are short.
_MAX_JUNK_LEN = 160
_SOCIAL = (
    r"(?:facebook|twitter|x|instagram|whatsapp|linkedin|telegram|reddit|pinterest|youtube|tiktok"
    r"|threads|bluesky|google\s+news|social\s+media|email|e-mail)"
)
# Each alternative must match the WHOLE line, so a sentence merely mentioning cookies or
# advertising is never removed.
_JUNK_LINE = re.compile(
    rf"""^(?:
        clicky | advertisement | advertising | advert | ad | sponsored(?:\s+content)?
      | share(?:\s+this(?:\s+(?:article|story|post|page))?)?(?:\s+(?:on|via)\s+\w+)?
      | (?:share|tweet|post)\s+(?:on|to)\s+\w+
      | (?:{_SOCIAL}[\s|,·•]*){{2,}}
      | (?:follow|find|like|join)\s+us\s+(?:on|at)\s+(?:{_SOCIAL}[\s,&]*(?:and\s+)?)+
      | (?:subscribe|sign\s+up)\b.{{0,60}}\b(?:newsletters?|alerts|updates|briefing)\b.{{0,40}}
      | subscribe(?:\s+(?:now|today|here))?
      | (?:we|this\s+(?:site|website))\s+uses?\s+cookies\b.*
      | (?:accept|reject|manage)(?:\s+all)?\s+cookies
      | cookie\s+(?:settings|policy|preferences|consent)
      | skip\s+to\s+(?:main\s+)?content
      | (?:continue\s+reading|scroll\s+to\s+continue)(?:\s+(?:below|with\s+content))?
      | listen\s+to\s+this\s+article
      | \d+\s+min(?:ute)?s?\s+read
      | click\s+here\s+to\b.*
      | download\s+(?:the|our)\s+app\b.*
      | (?:copyright\s*)?(?:©|\(c\)|copyright\s+\d{{4}}).{{0,100}}
      | .{{0,100}}\ball\s+rights\s+reserved
    )[\s.:!]*$""",
    re.IGNORECASE | re.VERBOSE,
)
# Headings that introduce a list of links to other stories.
_RELATED_HEADING = re.compile(
    r"""^(?:
        you\s+(?:may|might)\s+(?:also\s+)?like
      | read\s+(?:more|also|next) | also\s+read | see\s+also | further\s+reading
      | related(?:\s+(?:articles?|stories|news|content|posts|coverage|reading|topics|links))?
      | trending(?:\s+(?:now|stories|news|today))?
      | more\s+(?:from|on|in)\s+.{1,40} | more\s+(?:stories|news|headlines)
      | recommended(?:\s+(?:for\s+you|stories|articles|reading))?
      | most\s+(?:read|popular|viewed|shared) | popular\s+(?:now|stories|today)
      | top\s+stories | don['’]t\s+miss | what\s+to\s+read\s+next
    )\s*:?$""",
    re.IGNORECASE | re.VERBOSE,
)
# "Read more: Some other headline" on one line is a single related link.
_INLINE_RELATED = re.compile(r"^(?:read\s+(?:more|also)|also\s+read|see\s+also)\s*:\s*\S", re.I)
# A real paragraph ends like a sentence and is long enough to be one.
_SENTENCE_END = re.compile(r"[.!?…][”\"’')\]]*$")
_MIN_PROSE_WORDS = 12
_MAX_HEADLINE_LEN = 200
# Headlines capitalise most content words ("Trump's Made-for-TV Trade War Keeps World
# Guessing"); even name-heavy sentences do not. Short words are skipped: "of", "the", "a".
_TITLE_CASE_SHARE = 0.6
_MIN_CONTENT_WORD = 4
_WORD_EDGES = "\"“”‘’'()[]<>.,:;!?…—–-"
# A headline may be one question ("What is the value of drugs at the border?"); a paragraph
# that ends in a question mark usually has other sentences before it.
_QUESTION_END = re.compile(r"\?[”\"’')\]]*$")
_INNER_SENTENCE_END = re.compile(r"[.!?…][”\"’')\]]*\s+[“\"‘'(\[]?[A-Z0-9]")
# Chinese and Japanese write no spaces, so words cannot be counted; their headlines do not
# end in an ideographic full stop, their sentences do.
_CJK_SENTENCE_END = re.compile(r"[。！？][」』）”]*$")
_MIN_CJK_PROSE_LEN = 20
# A line that is mostly figures is a table row ("3 Kevin Harvick 5033 4 6 15 26"), not a link.
_FIGURE = re.compile(r"^[\d.,:%/+-]+$")
# "Mayor resigns." ends like a sentence, but "…in the U.S." ends with an abbreviation.
_FULL_STOP_END = re.compile(r"(?<![.\s]\w)\.[”\"’')\]]*$")


def is_junk_line(line: str) -> bool:
    """True for a widget / share / subscribe / cookie line."""
    return len(line) <= _MAX_JUNK_LEN and bool(_JUNK_LINE.match(line))


def is_related_heading(line: str) -> bool:
    """True for a heading that introduces a block of links, e.g. "You may also like"."""
    return len(line) <= _MAX_JUNK_LEN and bool(_RELATED_HEADING.match(line))


def is_prose(line: str) -> bool:
    """True for a line that reads like a paragraph of article text rather than a headline."""
    if len(line) > _MAX_HEADLINE_LEN:
        return True
    if _CJK_SENTENCE_END.search(line):
        return len(line) >= _MIN_CJK_PROSE_LEN
    words = line.split()
    if not _SENTENCE_END.search(line) or len(words) < _MIN_PROSE_WORDS or is_title_case(words):
        return False
    return not (_QUESTION_END.search(line) and not _INNER_SENTENCE_END.search(line))


def is_headline(line: str) -> bool:
    """True for a line that can be a link in a related-links block."""
    if is_prose(line) or _FULL_STOP_END.search(line):
        return False
    words = line.split()
    return 2 * sum(1 for w in words if _FIGURE.match(w)) < len(words)


def is_title_case(words: list[str]) -> bool:
    """True when most content words are capitalised, as in a headline."""
    # Figures ("0.3%", "2020") are neither: counting them would make market reports headlines.
    content = [
        w
        for w in (w.strip(_WORD_EDGES) for w in words)
        if len(w) >= _MIN_CONTENT_WORD and w[0].isalpha()
    ]
    if not content:
        return False
    capitalised = sum(1 for w in content if w[0].isupper())
    return capitalised >= _TITLE_CASE_SHARE * len(content)


def drop_junk_lines(lines: list[str]) -> tuple[list[str], list[str]]:
    """Split lines into (kept, removed widget lines)."""
    kept: list[str] = []
    removed: list[str] = []
    for line in lines:
        (removed if line and is_junk_line(line) else kept).append(line)
    return kept, removed


def drop_related_links(lines: list[str]) -> tuple[list[str], list[str]]:
    """Remove "You may also like"-style headings and the headline lines that follow them."""
    kept: list[str] = []
    removed: list[str] = []
    in_block = False
    content = [line for line in lines if line]
    following = dict(zip(map(id, content), content[1:], strict=False))
    for line in lines:
        if not line:
            kept.append(line)
            continue
        if is_related_heading(line) or (len(line) <= _MAX_JUNK_LEN and _INLINE_RELATED.match(line)):
            removed.append(line)
            in_block = is_related_heading(line)
            continue
        # The block runs until something other than a headline comes: a paragraph, a sentence,
        # a table row, or a line running on into a lowercase one (a sentence cut in two).
        after = following.get(id(line), "")
        if in_block and is_headline(line) and not after[:1].islower():
            removed.append(line)
            continue
        in_block = False
        kept.append(line)
    return kept, removed
