"""JSON items with values no date or text can come from: refused one by one, never the feed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tasks.errors import Rejected
from tasks.extract import read_file
from tasks.formats.fields import parse_published

GOOD = json.dumps({"title": "Good", "body": "A story that is fine.", "published": 1748858400})


def _feed(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "feed.jsonl"
    path.write_text("\n".join([GOOD, *lines, GOOD.replace("Good", "Also good")]) + "\n")
    return path


def _outcomes(path: Path) -> tuple[list[str], dict[str, str]]:
    extraction = read_file(path, 10_000_000)
    kept = [d.source.rsplit("#", 1)[1] for d in extraction.documents]
    refused = {source.rsplit("#", 1)[1]: why.reason for source, why in extraction.rejected}
    return kept, refused


@pytest.mark.parametrize(
    "raw",
    [
        "1e300",  # seconds far past year 9999
        "-1e300",
        "NaN",  # JSON literals Python's json module accepts
        "Infinity",
        "-Infinity",
        str(10**30),  # a huge int
        "-99999999999999",  # a negative epoch before year 1
    ],
)
def test_an_impossible_epoch_refuses_that_item_only(tmp_path: Path, raw: str) -> None:
    path = _feed(tmp_path, f'{{"title": "Bad date", "body": "Text.", "published": {raw}}}')

    kept, refused = _outcomes(path)

    assert kept == ["L1", "L3"]
    assert refused == {"L2": "bad_field_type"}
    detail = dict(read_file(path, 10_000_000).rejected)[f"{path}#L2"].detail
    assert "published" in detail


def test_a_number_longer_than_python_parses_is_refused_as_that_line(tmp_path: Path) -> None:
    # Python refuses integers of more than 4,300 digits (ValueError, not JSONDecodeError).
    path = _feed(tmp_path, '{"title": "Huge", "body": "Text.", "published": ' + "9" * 5000 + "}")

    kept, refused = _outcomes(path)

    assert kept == ["L1", "L3"]
    assert refused == {"L2": "malformed_json"}


def test_json_nested_too_deep_for_the_parser_is_refused_as_that_line(tmp_path: Path) -> None:
    path = _feed(tmp_path, "[" * 100_000 + "]" * 100_000)

    kept, refused = _outcomes(path)

    assert kept == ["L1", "L3"]
    assert refused == {"L2": "malformed_json"}


def test_a_json_array_feed_with_a_nan_date_keeps_its_good_items(tmp_path: Path) -> None:
    path = tmp_path / "feed.json"
    path.write_text('[{"body": "One.", "date": NaN}, {"body": "Two.", "date": 1748858400}]')

    extraction = read_file(path, 10_000)

    assert [d.source for d in extraction.documents] == [f"{path}#1"]
    assert [(s, why.reason) for s, why in extraction.rejected] == [(f"{path}#0", "bad_field_type")]


@pytest.mark.parametrize("raw", ["9" * 5000, "[" * 100_000 + "]" * 100_000])
def test_a_whole_json_file_python_cannot_parse_is_malformed(tmp_path: Path, raw: str) -> None:
    path = tmp_path / "one.json"
    path.write_text(raw)
    with pytest.raises(Rejected) as caught:
        read_file(path, 10_000_000)
    assert caught.value.reason == "malformed_json"


def test_nan_as_a_title_or_body_is_the_wrong_type(tmp_path: Path) -> None:
    path = _feed(tmp_path, '{"title": NaN, "body": "Text."}', '{"title": "T", "body": Infinity}')
    kept, refused = _outcomes(path)
    assert kept == ["L1", "L4"]
    assert refused == {"L2": "bad_field_type", "L3": "bad_field_type"}


def test_a_negative_epoch_in_range_is_a_date_before_1970() -> None:
    assert parse_published(-86400) == datetime(1969, 12, 31, tzinfo=UTC)


def test_a_date_string_that_does_not_parse_keeps_the_item_without_a_date(
    tmp_path: Path,
) -> None:
    # A scraper's "n/a" is no reason to lose the text: the date falls back to ingestion time,
    # flagged as such (published_from "ingested" in the index).
    path = _feed(tmp_path, '{"title": "Undated", "body": "Text.", "published": "not a date"}')

    extraction = read_file(path, 10_000)

    undated = extraction.documents[1]
    assert undated.source.endswith("#L2")
    assert (undated.published, undated.published_from) == (None, None)
    assert undated.to_index()["published_from"] == "ingested"
    assert not extraction.rejected
