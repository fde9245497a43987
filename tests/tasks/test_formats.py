"""Markdown, JSON and JSON Lines extraction (pure: no services)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tasks.document import Document
from tasks.errors import Rejected
from tasks.extract import read_file
from tasks.formats.fields import field_map, parse_published, site_of
from tasks.formats.markdown import strip_markup


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_markdown_front_matter_becomes_fields(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "post.md",
        "---\ntitle: Talks resume\ndate: 2025-06-02\n"
        "author: Jane Doe\nurl: https://www.news.example.org/x\n---\n"
        "Delegations met in **Istanbul** on [Monday](https://x.y/m).\n",
    )
    (doc,) = read_file(path, 10_000).documents
    assert (doc.title, doc.title_from, doc.author) == ("Talks resume", "front_matter", "Jane Doe")
    assert doc.published == datetime(2025, 6, 2)
    assert doc.site == "news.example.org"
    assert doc.text.strip() == "Delegations met in Istanbul on Monday."
    assert doc.format == "md"


def test_markdown_with_broken_front_matter_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.md", "---\ntitle: [unclosed\n---\nBody text.\n")
    with pytest.raises(Rejected) as caught:
        read_file(path, 10_000)
    assert caught.value.reason == "bad_front_matter"


def test_strip_markup_keeps_text_and_drops_syntax() -> None:
    text = "## Head\n\n![alt](i.png) See [the report](http://r) and __this__.\n\n---\n"
    assert strip_markup(text).split() == ["Head", "See", "the", "report", "and", "this."]


def test_jsonl_good_lines_pass_and_each_bad_line_is_refused_with_its_line(
    tmp_path: Path,
) -> None:
    lines = [
        json.dumps(
            {
                "title": "One",
                "body": "First story text.",
                "url": "https://a.example/1",
                "published": 1748858400,
            }
        ),
        "{not json",
        json.dumps({"title": 7, "body": "Typed wrong."}),
        "",
        json.dumps(["an", "array"]),
        json.dumps({"title": "No body here"}),
        json.dumps({"headline": "Two", "text": "Second story.", "authors": ["A B", "C D"]}),
    ]
    path = _write(tmp_path, "feed.jsonl", "\n".join(lines) + "\n")
    extraction = read_file(path, 100_000)
    assert [d.source for d in extraction.documents] == [f"{path}#L1", f"{path}#L7"]
    first, second = extraction.documents
    assert first.site == "a.example" and first.published_from == "json"
    assert first.published == datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
    assert (second.title, second.author) == ("Two", "A B, C D")
    reasons = {source.rsplit("#", 1)[1]: why.reason for source, why in extraction.rejected}
    assert reasons == {
        "L2": "malformed_json",
        "L3": "bad_field_type",
        "L5": "bad_item",
        "L6": "no_body",
    }
    assert "line 2" in dict(extraction.rejected)[f"{path}#L2"].detail


def test_json_array_is_a_feed_and_an_object_is_one_document(tmp_path: Path) -> None:
    feed = _write(tmp_path, "feed.json", json.dumps([{"body": "a"}, {"body": "b"}]))
    assert [d.source for d in read_file(feed, 10_000).documents] == [f"{feed}#0", f"{feed}#1"]
    single = _write(tmp_path, "one.json", json.dumps({"content": "only one"}))
    (doc,) = read_file(single, 10_000).documents
    assert doc.source == str(single) and doc.text == "only one"


def test_malformed_json_file_is_refused_whole(tmp_path: Path) -> None:
    path = _write(tmp_path, "broken.json", '{"body": "unterminated')
    with pytest.raises(Rejected) as caught:
        read_file(path, 10_000)
    assert caught.value.reason == "malformed_json"


def test_field_names_can_be_overridden(tmp_path: Path) -> None:
    path = _write(tmp_path, "custom.jsonl", json.dumps({"story": "Custom body", "hed": "H"}))
    assert read_file(path, 10_000).rejected[0][1].reason == "no_body"
    (doc,) = read_file(path, 10_000, {"body": ["story"], "title": ["hed"]}).documents
    assert (doc.text, doc.title) == ("Custom body", "H")
    with pytest.raises(ValueError, match="unknown field"):
        field_map({"bodyy": ["x"]})


def test_nul_bytes_inside_text_are_removed(tmp_path: Path) -> None:
    path = tmp_path / "nul.txt"
    path.write_bytes(b"A" * 9000 + b"\x00 and more text")
    (doc,) = read_file(path, 100_000).documents
    assert "\x00" not in doc.text and doc.text.endswith("and more text")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-06-02T21:29:00", datetime(2025, 6, 2, 21, 29)),
        ("02/06/2025", datetime(2025, 6, 2)),
        (1748858400000, datetime(2025, 6, 2, 10, 0, tzinfo=UTC)),
        (True, None),
        ({"nested": 1}, None),
    ],
)
def test_parse_published(value: object, expected: datetime | None) -> None:
    assert parse_published(value) == expected


def test_site_of() -> None:
    assert site_of("https://www.example.co.uk/path?q=1") == "example.co.uk"
    assert site_of("example.org/a") == "example.org"
    assert site_of(None) is None


def test_document_to_index_carries_url_and_site() -> None:
    doc = Document(source="/x.json", text="t", url="https://e.org/a", site="e.org")
    assert doc.to_index()["site"] == "e.org" and doc.to_index()["url"] == "https://e.org/a"
