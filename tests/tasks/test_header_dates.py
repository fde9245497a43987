"""The strptime fast path of date lines gives exactly what dateparser gives."""

from __future__ import annotations

from datetime import datetime, timedelta

import dateparser
import pytest

from tasks.cleaning.header import _DATE_SETTINGS, FAST_DATE_FORMATS, parse_date

# Days across every month, both halves of the day, single- and double-digit days and hours.
_SAMPLES = [datetime(2024, 1, 1, 0, 5) + timedelta(days=37 * n, hours=7 * n) for n in range(40)]


def _slow(text: str) -> datetime | None:
    parsed: datetime | None = dateparser.parse(text, languages=["en"], settings=_DATE_SETTINGS)
    return parsed


@pytest.mark.parametrize("fmt", FAST_DATE_FORMATS)
def test_every_fast_format_agrees_with_dateparser(fmt: str) -> None:
    for when in _SAMPLES:
        text = when.strftime(fmt)
        expected = _slow(text)
        assert expected is not None, text
        assert parse_date(text) == expected, text


@pytest.mark.parametrize(
    "text",
    [
        "02 Jun 2025 09:29 PM",  # seed 003's line
        "2 June 2025",
        "June 2, 2025",
        "2025-06-02",
        "13/05/2025",
        "Monday, 2 June 2025",
        "05/13/2025",  # not day-first: dateparser's own call
        "Sept 3, 2025",
        "2 hours ago",
        "3 days ago",
        "Jun 2025",
        "2025-06-02T21:29:00+03:00",
        "yesterday",
        "not a date at all",
    ],
)
def test_lines_outside_the_fast_formats_still_go_to_dateparser(text: str) -> None:
    got, expected = parse_date(text), _slow(text)
    if expected is None or text.endswith("ago") or text == "yesterday" or text == "Jun 2025":
        # Relative dates and missing days are filled from the clock: compare what is fixed.
        assert (got is None) == (expected is None)
    else:
        assert got == expected
