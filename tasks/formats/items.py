"""JSON and JSON Lines from scrapers: one document per item, a bad item refused on its own."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tasks.document import Document
from tasks.errors import Rejected
from tasks.formats.fields import DEFAULT_FIELDS, apply_fields, pick, text_value
from tasks.source import ItemRef

HtmlExtractor = Callable[[str, str], Document]


@dataclass
class Items:
    """What a multi-item file held: documents, and the items refused with their reason."""

    documents: list[Document] = field(default_factory=list)
    rejected: list[tuple[str, Rejected]] = field(default_factory=list)


def item_document(
    source: str, item: Any, fields: Mapping[str, Sequence[str]], extract_html: HtmlExtractor
) -> Document:
    """One scraped item as a Document: a text body, or an HTML page to extract."""
    if not isinstance(item, Mapping):
        raise Rejected("bad_item", f"an item must be a JSON object, not {type(item).__name__}")
    if found := pick(item, fields["body"]):
        doc = Document(source=source, text=text_value(*found), format="json")
    elif found := pick(item, fields["html"]):
        doc = extract_html(source, text_value(*found)).replace(format="json")
    else:
        wanted = ", ".join([*fields["body"], *fields["html"]])
        raise Rejected(
            "no_body",
            f"no text field (looked for {wanted}); set DROPSIFT_JSON_FIELDS to name yours",
        )
    return apply_fields(doc, item, origin="json", fields=fields)


def _loads(text: str) -> Any:
    """Parse JSON; Rejected("malformed_json") for what Python's parser refuses, whatever why."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}" if exc.lineno > 1 else f"column {exc.colno}"
        raise Rejected("malformed_json", f"{exc.msg} at {where}") from exc
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise Rejected("malformed_json", str(exc)) from exc
    except RecursionError as exc:
        raise Rejected("malformed_json", "nested too deeply to parse") from exc


def _collect(
    pairs: list[tuple[str, Any]], fields: Mapping[str, Sequence[str]], extract_html: HtmlExtractor
) -> Items:
    items = Items()
    for source, item in pairs:
        try:
            items.documents.append(item_document(source, item, fields, extract_html))
        except Rejected as rejected:
            items.rejected.append((source, rejected))
    return items


def extract_jsonl(
    path: str,
    text: str,
    extract_html: HtmlExtractor,
    fields: Mapping[str, Sequence[str]] = DEFAULT_FIELDS,
    *,
    first_line: int = 1,
) -> Items:
    """JSON Lines: each non-blank line an item, named by its line (`ItemRef.line`).

    Lines end at "\\n" only, as the format says: a U+2028 or a lone "\\r" inside an item
    does not split it. `first_line` numbers the lines of a feed's appended part.
    """
    pairs: list[tuple[str, Any]] = []
    bad: list[tuple[str, Rejected]] = []
    for number, line in enumerate(text.split("\n"), first_line):
        if not line.strip():
            continue
        source = str(ItemRef.line(path, number))
        try:
            pairs.append((source, _loads(line)))
        except Rejected as rejected:
            bad.append((source, Rejected(rejected.reason, f"line {number}: {rejected.detail}")))
    items = _collect(pairs, fields, extract_html)
    items.rejected = bad + items.rejected
    return items


def extract_json(
    path: str,
    text: str,
    extract_html: HtmlExtractor,
    fields: Mapping[str, Sequence[str]] = DEFAULT_FIELDS,
) -> Items:
    """A JSON object (one document) or an array of objects (a feed export: `ItemRef.index`)."""
    data = _loads(text)
    if isinstance(data, list):
        return _collect(
            [(str(ItemRef.index(path, i)), item) for i, item in enumerate(data)],
            fields,
            extract_html,
        )
    return _collect([(path, data)], fields, extract_html)
