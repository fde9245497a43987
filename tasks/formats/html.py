"""HTML pages: the article body via trafilatura, our precision rules, and the page metadata.

trafilatura finds the main content; on top of it we drop what its output still carries and
article bodies do not: the headline and standfirst repeated at the top, teaser cards and
newsletter widgets, inline "Read more:" links, "Related" blocks, credits and reprint notices.
Every rule removes whole blocks or whole lines, never words inside a sentence.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from htmldate import find_date
from lxml.etree import _Element
from lxml.html import HtmlElement, fromstring
from trafilatura import bare_extraction
from trafilatura.metadata import examine_meta, extract_meta_json, extract_title, extract_url
from trafilatura.settings import Extractor
from trafilatura.utils import DOCTYPE_TAG, HTML_PARSER, is_dubious_html, load_html
from trafilatura.xml import xmltotxt

from tasks.document import Document
from tasks.errors import Rejected

_WORD = re.compile(r"\w+")
# The control characters trafilatura's load_html deletes before parsing (its
# INVALID_XML_CHARS); pages almost never hold one.
_XML_INVALID_CHARS = (
    *map(chr, range(0x00, 0x09)),
    "\x0b",
    "\x0c",
    *map(chr, range(0x0E, 0x20)),
    "\ufffe",
    "\uffff",
)
# load_html's repair of a self-closing <html/> looks at this many leading lines (of 4 KB).
_HTML_TAG_LINES = 4
_HTML_TAG_ZONE = 4096
# trafilatura's extraction settings, built once: bare_extraction would rebuild them per call.
# Its "txt" output leaves the body tree unserialised ("python" would render a text we do not
# use, since our rules prune the tree first).
_EXTRACTORS = (
    Extractor(output_format="txt", fast=True, comments=False),
    # The slower fallback extractors (readability, jusText), for pages the fast path misses.
    Extractor(output_format="txt", fast=False, comments=False),
)
# The headline sits in the first few blocks of trafilatura's output when it is kept at all.
_TITLE_ZONE = 3
# Shared words over the longer of (block, title) from which a block repeats the title.
_TITLE_OVERLAP = 0.6
_MIN_TITLE_WORDS = 3
# "Headline | Site name", "Headline - Site": the part that is the headline.
_TITLE_SEPARATOR = re.compile(r"\s+[|–—-]\s+")
# A kicker above the headline ("Review", "Immunology") is a word or two.
_MAX_KICKER_WORDS = 3
# This many headings in a row with no text between them are a widget, not a section outline.
_MAX_HEADING_RUN = 2
# Lines longer than this are prose, whatever words they start with.
_MAX_FURNITURE_LEN = 200

# Whole-line page furniture: reprint/print/comment controls, subscription widgets and pitches,
# copyright notices (not sentences about copyright), contributor credits, tag lists, "follow
# our coverage" plugs.
_FURNITURE = re.compile(
    r"""^(?:
        order\s+reprints? | print(?:\s+this)?(?:\s+article)? | explore\s+further | comments?
      | \d+\s+comments? | (?:leave|post|add)\s+a\s+comment | related\s+(?:posts?|articles?|stories)
      | (?:thanks|thank\s+you)\s+for\s+(?:signing\s+up|subscribing)\b.*
      | keep\s+an\s+eye\s+on\s+your\s+inbox\b.* | .*\berror\s+processing\s+your\s+subscription\b.*
      | an\s+error\s+(?:has\s+)?occurred\b.*
      | subscribe\s+to\s+(?:our|the)\b.*
      | copyright\s*(?:©|\(c\)|\d{4}).* | copyright\s+\S+(?:\s+\S+){0,3}\s+\d{4}\b.*
      | copyright\b.*\ball\s+rights\s+reserved\b.*
      | write\s+to\s+.{1,80}\s+at\s+\S+@\S+
      | follow\s+.{1,60}\bcoverage\b.*
      | .{1,150}\bcontributed\s+(?:to\s+this\s+(?:report|story|article)|reporting)\b.*
      | (?:filed\s+under|tags?|tagged(?:\s+with)?|topics|categories|posted\s+in)\s*:.*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
# Notices that start a paragraph of any length: reprint terms, membership and affiliate pitches.
_NOTICE = re.compile(
    r"^(?:this\s+copy\s+is\s+for\s+your\s+personal,?\s+non-commercial\s+use"
    r"|if\s+you\s+(?:enjoyed|liked)\s+(?:this|the)\s+(?:article|story|post)"
    r"|if\s+you\s+(?:buy|purchase)\s+something\s+(?:through|using|via|from)\s+(?:this|our|a)\b)",
    re.IGNORECASE,
)
# The marker trafilatura puts before list items.
_ITEM_MARKER = re.compile(r"^[-•*]\s+")
# "Read more: Another headline", "SEE MORE: ...", "Related: ...": one link to another story.
_INLINE_LINK = re.compile(
    r"^(?:see\s+more|read\s+more|read\s+also|also\s+read|see\s+also|related(?:\s+\w+)?|more"
    r"|watch|listen|recommended|don['’]t\s+miss)\s*:\s*\S",
    re.IGNORECASE,
)
# Express-style link lists: "Some other headline [VIDEO]" / "[INSIGHT]|".
_TAGGED_LINK = re.compile(r"\s\[[A-Z][A-Za-z ]{2,15}\]\s*\|?$")
# "…, photos © Inexhibit, 2018": a credit inside a caption (a line starting with © is a notice).
_PHOTO_CREDIT = re.compile(r"^[^©]{3,}©")
# Headings that introduce a block of links to other stories.
_LINKS_HEADING = re.compile(
    r"^(?:explore\s+further|don['’]t\s+miss|related(?:\s+\w+)?|more\s+(?:stories|news|from\s+.{1,40})"
    r"|you\s+(?:may|might)\s+(?:also\s+)?like|recommended(?:\s+\w+){0,2}|read\s+(?:more|next)"
    r"|most\s+(?:read|popular)|trending(?:\s+now)?|see\s+also|further\s+reading)\s*:?$",
    re.IGNORECASE,
)
# A line that reads like a sentence of prose ends a links block.
_SENTENCE_END = re.compile(r"[.!?…:][”\"’')\]]*$")
_MIN_PROSE_WORDS = 10


def extract_html(source: str, html: str) -> Document:
    """Extract the article text and metadata of an HTML page; Rejected when it has no article."""
    tree = _parse_html(html) if html.strip() else None
    if tree is None:
        raise Rejected("no_content", "the HTML could not be parsed into a document tree")
    title, author, url = _metadata(tree)
    body = _main_content(tree)
    if body is None:
        raise Rejected("no_content", "no article text found in the page")
    _prune_blocks(body, title)
    paragraphs = _drop_furniture(xmltotxt(body, include_formatting=False).split("\n"), url)
    if not paragraphs:
        raise Rejected("no_content", "no article text left after removing page furniture")
    published = _published(tree, url)
    return Document(
        source=source,
        text="\n\n".join(paragraphs),
        format="html",
        title=title,
        title_from="metadata" if title else None,
        published=published,
        published_from="metadata" if published else None,
        author=author,
        url=url,
        site=_site(url),
        title_hints=_title_hints(tree),
    )


def _title_hints(tree: HtmlElement) -> dict[str, str]:
    """The page's <title>, its og:title and first <h1>, and og:site_name, where present."""
    found = {
        "page_title": tree.findtext(".//title"),
        "og_title": _first(tree.xpath('//meta[@property="og:title"]/@content')),
        "h1": _first([h.text_content() for h in tree.iterfind(".//h1")]),
        "site_name": _first(tree.xpath('//meta[@property="og:site_name"]/@content')),
    }
    return {name: " ".join(text.split()) for name, text in found.items() if text and text.strip()}


def _first(values: list[Any]) -> str | None:
    return str(values[0]) if values else None


def _parse_html(html: str) -> HtmlElement | None:
    """The page's tree, exactly as trafilatura's load_html builds it from a string."""
    # load_html first deletes XML-invalid control characters with a regex pass over the whole
    # page: about 1 ms on a 240 KB page, 5% of an extraction. One `in` test per character
    # shows a page has none three times faster; then, unless one of load_html's other repairs
    # (an XHTML doctype line, a self-closing <html/>) or fallbacks applies, its parse is one
    # lxml call. Every other page goes through load_html itself.
    if any(char in html for char in _XML_INVALID_CHARS):
        return load_html(html)
    beginning = html[:50].lower()
    if "doctype" in beginning:
        line_end = html.find("\n")
        if DOCTYPE_TAG.match(html, 0, len(html) if line_end == -1 else line_end):
            return load_html(html)
        if line_end == -1:
            html += "\n"  # load_html's rewrite of the first line ends it (minified pages)
    for line in html[:_HTML_TAG_ZONE].splitlines()[:_HTML_TAG_LINES]:
        if "<html" in line and line.endswith("/>"):
            return load_html(html)
    try:
        tree = fromstring(html, parser=HTML_PARSER)
    except Exception:  # load_html's own fallbacks (a bytes parse) and logging take over
        return load_html(html)
    if tree is None or len(tree) < 1 or (is_dubious_html(beginning) and len(tree) < 2):
        return load_html(html)
    return tree


def _main_content(tree: HtmlElement) -> _Element | None:
    """trafilatura's main-content tree; its slower fallback extractors only when it finds none."""
    for options in _EXTRACTORS:
        extracted = bare_extraction(tree, options=options)
        body: _Element | None = getattr(extracted, "body", None)
        if body is not None and len(body) and "".join(body.itertext()).strip():
            return body
    return None


def _words(text: str) -> list[str]:
    """Lower-cased word tokens of `text`."""
    return _WORD.findall(text.casefold())


def _text(element: _Element) -> str:
    """All text inside `element`, whitespace-collapsed."""
    return " ".join("".join(element.itertext()).split())


def _first_line(element: _Element) -> str:
    """The text of `element` up to its first line break (a headline may carry a date below)."""
    parts = [element.text or ""]
    for child in element:
        if child.tag == "lb":
            break
        parts.append("".join(child.itertext()) + (child.tail or ""))
    return " ".join("".join(parts).split())


def _repeats_title(text: str, title: str | None) -> bool:
    """True when a block says the same as the page title (site suffix and word order aside)."""
    if not title:
        return False
    if _words(text) == _words(title):
        return True
    block = set(_words(text))
    if len(block) < _MIN_TITLE_WORDS:
        return False
    headline = max(_TITLE_SEPARATOR.split(title), key=len)
    for candidate in (title, headline):
        heading = set(_words(candidate))
        if len(block & heading) / max(len(block), len(heading)) >= _TITLE_OVERLAP:
            return True
    return False


def _has_tail(element: _Element) -> bool:
    """True when text follows `element` directly (e.g. a paragraph trafilatura left untagged)."""
    return bool(element.tail and element.tail.strip())


def _remove(element: _Element) -> None:
    """Remove a block but keep its tail text (text that follows it in the same parent)."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    if tail and tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def _prune_blocks(body: _Element, title: str | None) -> None:
    """Drop headline, standfirst, teaser-card lists, heading-only widgets and trailing headings."""
    blocks = list(body)
    doomed: set[int] = set()
    # Headline (and a kicker above it, and heading-styled standfirsts below it).
    for index, block in enumerate(blocks[:_TITLE_ZONE]):
        if block.tag in ("head", "p") and _repeats_title(_first_line(block), title):
            doomed.add(index)
            doomed.update(
                i for i in range(index) if len(_text(blocks[i]).split()) <= _MAX_KICKER_WORDS
            )
            following = index + 1
            while following < len(blocks) and blocks[following].tag == "head":
                doomed.add(following)
                if _has_tail(blocks[following]):
                    break
                following += 1
            break
    # Paragraphs and headings that are furniture as a whole, so that a heading they leave
    # dangling at the end ("Something to Consider") goes too.
    for index, block in enumerate(blocks):
        if block.tag in ("p", "head") and _is_furniture(_text(block)):
            doomed.add(index)
    # Lists whose items are headed cards are teasers for other stories.
    for index, block in enumerate(blocks):
        items = block.findall("item") if block.tag == "list" else []
        if items and all(item.find("head") is not None for item in items):
            doomed.add(index)
    # Runs of headings with nothing between them: newsletter boxes, promo widgets.
    run: list[int] = []
    for index, block in enumerate([*blocks, None]):
        if block is not None and block.tag == "head" and index not in doomed:
            run.append(index)
            if not _has_tail(block):
                continue
        if len(run) > _MAX_HEADING_RUN:
            doomed.update(run)
        run = []
    # A heading with nothing after it heads nothing.
    for index in range(len(blocks) - 1, -1, -1):
        if index in doomed:
            continue
        if _has_tail(blocks[index]) or (blocks[index].tag != "head" and _text(blocks[index])):
            break
        doomed.add(index)
    for index in sorted(doomed, reverse=True):
        _remove(blocks[index])


def _is_furniture(line: str) -> bool:
    """True for a whole line of page furniture rather than article text."""
    line = _ITEM_MARKER.sub("", line)
    if _NOTICE.match(line):
        return True
    if len(line) > _MAX_FURNITURE_LEN:
        return False
    return bool(
        _FURNITURE.match(line)
        or _INLINE_LINK.match(line)
        or _TAGGED_LINK.search(line)
        or _PHOTO_CREDIT.match(line)
    )


def _is_prose(line: str) -> bool:
    """True for a line that reads like a sentence of article text, not a headline."""
    return len(line) > _MAX_FURNITURE_LEN or (
        bool(_SENTENCE_END.search(line)) and len(line.split()) >= _MIN_PROSE_WORDS
    )


def _drop_furniture(lines: list[str], url: str | None) -> list[str]:
    """Stripped, non-empty lines without furniture lines and "Related"-style link blocks."""
    kept: list[str] = []
    in_links = False
    own_url = url.rstrip("/") if url else None
    for raw in lines:
        line = " ".join(raw.split())
        if not line or line == "-" or line.rstrip("/") == own_url:
            continue
        if len(line) <= _MAX_FURNITURE_LEN and _LINKS_HEADING.match(line):
            in_links = True
            continue
        if in_links and not _is_prose(line):
            continue
        in_links = False
        if not _is_furniture(line):
            kept.append(line)
    return kept


def _metadata(tree: HtmlElement) -> tuple[str | None, str | None, str | None]:
    """(title, author, url) from meta tags, JSON-LD, the <title>/<h1> and the canonical link."""
    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:
        meta.author = None  # a one-word "author" is usually the site's handle
    # trafilatura's JSON-LD reader can trip on malformed blocks: then the meta tags stand.
    with contextlib.suppress(Exception):
        meta = extract_meta_json(tree, meta)
    title = meta.title or extract_title(tree)
    url = meta.url or extract_url(tree)
    if url and urlsplit(url).scheme not in ("http", "https"):
        url = None
    return title or None, meta.author or None, url or None


def _published(tree: HtmlElement, url: str | None) -> datetime | None:
    """The publication date: htmldate without extensive search (which picks "© 2025" footers)."""
    found = find_date(tree, extensive_search=False, original_date=True, url=url)
    if not found:
        return None
    return datetime.strptime(found, "%Y-%m-%d").replace(tzinfo=UTC)


def _site(url: str | None) -> str | None:
    """The host of `url` without a leading "www.", or None."""
    host = urlsplit(url).hostname if url else None
    if not host:
        return None
    return host.removeprefix("www.")
