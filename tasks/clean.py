"""Cleaning stage: repair the text, strip page furniture, and pull out title/date/section/author."""

from __future__ import annotations

from pathlib import Path

from tasks.cleaning.boilerplate import drop_junk_lines, drop_related_links
from tasks.cleaning.header import Header, extract_header, match_date_line
from tasks.cleaning.paragraphs import (
    drop_repeats,
    first_sentence,
    join_broken,
    title_from_sentence,
)
from tasks.cleaning.repair import fix_missing_spaces, repair_text
from tasks.document import Document

CLEANER_VERSION = "2"  # bump when rules change: stored `cleaning.version` says which rules ran


def clean(doc: Document) -> Document:
    """Return a copy of `doc` with body, title, date, section, author and a cleaning record set."""
    removed: dict[str, list[str]] = {}

    def drop(reason: str, lines: list[str]) -> None:
        """Record removed lines under their reason, so nothing vanishes unexplained."""
        if lines:
            removed.setdefault(reason, []).extend(lines)

    # Junk goes first so widget lines such as "Clicky" cannot pose as a section label or title.
    lines, junk = drop_junk_lines(repair_text(doc.text).split("\n"))
    drop("junk_line", junk)
    # Header lines are how scraped .txt carries title/date/byline; other formats bring those as
    # fields from their metadata, and their first lines are already body text.
    header, lines = extract_header(lines) if doc.format == "txt" else (Header(), lines)
    for reason, taken in header.removed.items():
        drop(reason, taken)
    lines, stray_dates = _drop_stray_date_lines(lines, header)
    drop("date_line", stray_dates)
    # Related-link headlines are short unpunctuated lines: remove them before joining could
    # glue them onto each other or onto the article.
    lines, related = drop_related_links(lines)
    drop("related_links", related)
    paragraphs = [fix_missing_spaces(p) for p in join_broken([line for line in lines if line])]
    paragraphs, repeats = drop_repeats(paragraphs)
    drop("repeated_paragraph", repeats)
    body = "\n\n".join(paragraphs)

    # Fields the extractor already read from structured input (HTML metadata, JSON fields,
    # front matter) win over what the text's header lines suggest.
    published, published_from = doc.published, doc.published_from
    if published is None and header.published is not None:
        published, published_from = header.published, "text"
    if doc.title:
        title, title_from = doc.title, doc.title_from or "metadata"
    elif header.title:
        title, title_from = header.title, "text"
    elif body:
        title, title_from = title_from_sentence(first_sentence(body)), "first_sentence"
    else:
        title, title_from = Path(doc.source).stem, "filename"

    return doc.replace(
        body=body,
        title=title,
        title_from=title_from,
        published=published,
        published_from=published_from,
        section=doc.section or header.section,
        author=doc.author or header.author,
        cleaning={
            "version": CLEANER_VERSION,
            "chars_before": len(doc.text),
            "chars_after": len(body),
            "removed": removed,
        },
    )


def _drop_stray_date_lines(lines: list[str], header: Header) -> tuple[list[str], list[str]]:
    """Remove labelled date lines ("Updated: ...") below the header; they are metadata too."""
    kept: list[str] = []
    dates: list[str] = []
    for line in lines:
        dated = match_date_line(line) if line else None
        if dated:
            header.offer_date(*dated)
            dates.append(line)
        else:
            kept.append(line)
    return kept, dates
