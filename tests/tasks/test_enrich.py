"""Unit tests for enrichment: language detection, word count, title and date fallbacks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tasks.document import Document
from tasks.enrich import detect_language, enrich

ENGLISH = (
    "The city council approved the new budget on Tuesday after a long debate. "
    "Officials said the money would be spent on road repairs over three years. "
    "Residents are invited to comment on the plans until the end of the month."
)
RUSSIAN = (
    "Вчера вечером в городе прошёл сильный дождь. Многие улицы были затоплены, "
    "и транспорт остановился. Власти обещают помочь жителям."
)
ARABIC = (
    "أعلنت الحكومة اليوم عن خطة جديدة لتحسين التعليم في المدارس. "
    "وقال الوزير إن الخطة ستبدأ العام المقبل. ويأمل المعلمون أن تتحسن الأوضاع."
)
CHINESE = (
    "今天上午，市政府宣布了一项新的交通计划。该计划将在明年开始实施，"
    "预计会减少城市拥堵。市民们对此表示欢迎。"
)
INGESTED = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "lang"), [(ENGLISH, "en"), (RUSSIAN, "ru"), (ARABIC, "ar"), (CHINESE, "zh")]
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize("text", ["hello", "Привет", "", "   \n  "])
def test_detect_language_too_little_text(text: str) -> None:
    assert detect_language(text) is None


def make(**fields: object) -> Document:
    base: dict[str, object] = {
        "source": "/data/inbox/Quarterly Report.final.txt",
        "text": ENGLISH,
        "body": ENGLISH,
        "ingested_at": INGESTED,
    }
    base.update(fields)
    return Document(**base)  # type: ignore[arg-type]


def test_enrich_title_from_filename_stem() -> None:
    doc = enrich(make())
    assert doc.title == "Quarterly Report.final"
    assert doc.title_from == "filename"


def test_enrich_keeps_existing_title() -> None:
    doc = enrich(make(title="Budget approved", title_from="text"))
    assert doc.title == "Budget approved"
    assert doc.title_from == "text"


def test_enrich_published_falls_back_to_ingested() -> None:
    doc = enrich(make())
    assert doc.published == INGESTED
    assert doc.published_from == "ingested"


def test_enrich_keeps_published_date() -> None:
    published = datetime(2023, 1, 2, tzinfo=UTC)
    doc = enrich(make(published=published, published_from="text"))
    assert doc.published == published
    assert doc.published_from == "text"


def test_enrich_word_count_and_language() -> None:
    doc = enrich(make(body="One two three, four-five six.\n\nSeven eight."))
    assert doc.word_count == 8  # "four-five" is two words
    full = enrich(make())
    assert full.word_count == len(ENGLISH.split())
    assert full.language == "en"


def test_enrich_does_not_mutate_input() -> None:
    original = make()
    enrich(original)
    assert original.title is None
    assert original.published is None
    assert original.word_count == 0
