"""news-please and trafilatura items map onto documents with no DROPSIFT_JSON_FIELDS."""

from __future__ import annotations

from tasks.document import Document
from tasks.formats.fields import DEFAULT_FIELDS
from tasks.formats.items import item_document


def _html(source: str, html: str) -> Document:
    return Document(source=source, text=html, format="html")


def test_a_news_please_item() -> None:
    item = {
        "authors": ["Ana Lopes", "Ben Ito"],
        "date_download": "2026-11-30 10:00:00",
        "date_publish": "2026-11-29 08:15:00",
        "description": "The lead.",
        "language": "en",
        "maintext": "The harbour reopened on Tuesday after weeks of repairs.",
        "source_domain": "news.example.org",
        "title": "Harbour reopens",
        "url": None,
    }
    doc = item_document("f#L1", item, DEFAULT_FIELDS, _html)
    assert doc.text == item["maintext"]  # not the description
    assert (doc.title, doc.author) == ("Harbour reopens", "Ana Lopes, Ben Ito")
    assert doc.published is not None and doc.published.isoformat().startswith("2026-11-29T08:15")
    assert doc.site == "news.example.org"


def test_a_trafilatura_json_item() -> None:
    item = {
        "title": "Harbour reopens",
        "author": "Ana Lopes",
        "hostname": "www.example.com",
        "sitename": "Example Daily",
        "date": "2026-11-29",
        "categories": "Local",
        "text": "The harbour reopened on Tuesday after weeks of repairs.",
        "raw_text": "The harbour reopened on Tuesday after weeks of repairs. Share this.",
    }
    doc = item_document("f#L1", item, DEFAULT_FIELDS, _html)
    assert doc.text == item["text"]
    assert (doc.site, doc.section) == ("example.com", "Local")
    assert doc.title_hints["site_name"] == "Example Daily"
    with_url = item_document(
        "f#L2", {**item, "url": "https://other.example/a"}, DEFAULT_FIELDS, _html
    )
    assert with_url.site == "other.example"  # the item's URL wins over its hostname
