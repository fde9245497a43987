"""Structured fields (JSON items, front matter) mapped onto a Document, with type checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import dateparser

from tasks.document import Document
from tasks.errors import Rejected

# Field -> the names scrapers commonly give it (Scrapy feed exports, schema.org, RSS-ish).
# The first one present wins; DROPSIFT_JSON_FIELDS overrides per field.
# news-please (`maintext`, `date_publish`, `authors`, `source_domain`) and trafilatura's JSON
# (`text`, `raw_text`, `date`, `author`, `hostname`, `sitename`) items map with no settings.
DEFAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "title": ("title", "headline", "name"),
    "body": (
        "body",
        "text",
        "maintext",
        "content",
        "articleBody",
        "article",
        "raw_text",
        "description",
    ),
    "html": ("html", "raw_html", "page_html"),
    "url": ("url", "link", "canonical_url", "source_url"),
    "published": (
        "published",
        "date",
        "date_publish",
        "published_at",
        "datePublished",
        "pubDate",
        "time",
    ),
    "author": ("author", "byline", "authors", "creator"),
    "section": ("section", "category", "categories"),
    "site": ("site", "source_domain", "hostname", "domain"),
    "site_name": ("site_name", "sitename", "publisher"),
}


def field_map(overrides: Mapping[str, Sequence[str]] | None = None) -> dict[str, tuple[str, ...]]:
    """The default field names with the user's overrides applied."""
    merged = dict(DEFAULT_FIELDS)
    for name, keys in (overrides or {}).items():
        if name not in DEFAULT_FIELDS:
            raise ValueError(
                f"unknown field {name!r} in DROPSIFT_JSON_FIELDS; "
                f"known: {', '.join(DEFAULT_FIELDS)}"
            )
        merged[name] = tuple(keys)
    return merged


def pick(item: Mapping[str, Any], names: Sequence[str]) -> tuple[str, Any] | None:
    """The first of `names` present with a non-empty value, as (name, value)."""
    for name in names:
        value = item.get(name)
        if value not in (None, "", [], {}):
            return name, value
    return None


def text_value(name: str, value: Any) -> str:
    """A text field: strings, or lists of strings joined (several authors, categories)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(v.strip() for v in value if v.strip())
    if isinstance(value, Mapping) and isinstance(value.get("name"), str):
        return str(value["name"]).strip()  # schema.org style {"@type": "Person", "name": ...}
    raise Rejected("bad_field_type", f"field {name!r} is {type(value).__name__}, expected text")


def epoch_date(name: str, value: int | float) -> datetime:
    """Seconds (or milliseconds) since the epoch as a date; Rejected when no date is that far."""
    try:
        seconds = value / 1000 if value > 1e11 else value  # milliseconds are common too
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, ValueError, OSError) as exc:
        # NaN, ±Infinity (JSON literals Python accepts) and epochs outside years 1-9999.
        raise Rejected(
            "bad_field_type", f"field {name!r} is {value!r}, not a date as epoch seconds ({exc})"
        ) from exc


def parse_published(value: Any, name: str = "published") -> datetime | None:
    """A date from text, a number of seconds since the epoch, or a YAML date.

    None when the value says no date (a string no parser reads); Rejected for a number that
    cannot be one.
    """
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return epoch_date(name, value)
    if isinstance(value, str):
        return dateparser.parse(value, languages=["en"], settings={"DATE_ORDER": "DMY"})
    return None


def site_of(url: str | None) -> str | None:
    """The host of a URL without its leading "www."."""
    if not url:
        return None
    host = urlsplit(url if "//" in url else f"//{url}").hostname
    return host.removeprefix("www.") if host else None


def apply_fields(
    doc: Document,
    item: Mapping[str, Any],
    *,
    origin: str,
    fields: Mapping[str, Sequence[str]] | None = None,
) -> Document:
    """Set title, url, site, published, author and section from structured fields."""
    names = fields or DEFAULT_FIELDS
    changes: dict[str, Any] = {}
    if found := pick(item, names["title"]):
        changes["title"], changes["title_from"] = text_value(*found), origin
    if found := pick(item, names["url"]):
        changes["url"] = text_value(*found)
        changes["site"] = site_of(changes["url"])
    if found := pick(item, names["published"]):
        published = parse_published(found[1], found[0])
        if published is not None:
            changes["published"], changes["published_from"] = published, origin
    if found := pick(item, names["author"]):
        changes["author"] = text_value(*found)
    if found := pick(item, names["section"]):
        changes["section"] = text_value(*found)
    if not changes.get("site") and (found := pick(item, names["site"])):
        changes["site"] = site_of(text_value(*found))
    if found := pick(item, names["site_name"]):
        # The site's own name ("WIRED"): what its titles end with, to strip from them.
        changes["title_hints"] = {**doc.title_hints, "site_name": text_value(*found)}
    return doc.replace(**changes)
