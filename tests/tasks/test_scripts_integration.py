"""Documents in other scripts through the pipeline function: indexed, language detected."""

from __future__ import annotations

import unicodedata

import pytest
import redis
from elasticsearch import Elasticsearch

from tests.support.index import search_ids
from worker.pipeline.ledger import Ledger
from worker.settings import Settings

pytestmark = pytest.mark.integration

STORIES = {
    "ru": (
        "Переговоры в Стамбуле возобновились",
        "Переговоры между делегациями возобновились в Стамбуле в понедельник. Министры "
        "иностранных дел обсудили обмен пленными и гуманитарные коридоры.\n\nПо словам "
        "наблюдателей, надежды на быстрый прорыв остаются низкими, однако стороны "
        "договорились встретиться снова через две недели.",
        "пленными",
    ),
    "ar": (
        "استئناف المحادثات في إسطنبول",
        "استؤنفت المحادثات بين الوفدين في إسطنبول يوم الاثنين. وناقش وزراء الخارجية تبادل "
        "الأسرى والممرات الإنسانية.\n\nويقول المراقبون إن الآمال في تحقيق انفراجة سريعة لا "
        "تزال ضئيلة، لكن الطرفين اتفقا على الاجتماع مرة أخرى بعد أسبوعين.",
        "الأسرى",
    ),
    "zh": (
        "伊斯坦布尔和谈恢复",
        "周一，两国代表团在伊斯坦布尔恢复了和平谈判。外交部长们讨论了交换战俘和人道主义走廊等问题。"
        "\n\n观察人士表示，迅速取得突破的希望仍然渺茫，但双方同意两周后再次会面。",
        "战俘",
    ),
    "ja": (
        "イスタンブールで和平交渉が再開",
        "月曜日、両国の代表団はイスタンブールで和平交渉を再開した。外相らは捕虜の交換と人道回廊に"
        "ついて話し合った。\n\n専門家によると、早期の進展への期待は低いが、双方は二週間後に再び会う"
        "ことで合意した。",
        "捕虜",
    ),
    "ko": (
        "이스탄불 평화 협상 재개",
        "월요일 양국 대표단은 이스탄불에서 평화 협상을 재개했다. 외무장관들은 포로 교환과 인도주의 "
        "통로 문제를 논의했다.\n\n관측통들은 빠른 돌파구에 대한 기대는 낮지만 양측이 2주 후 다시 "
        "만나기로 합의했다고 말했다.",
        "대표단은",
    ),
}


@pytest.mark.parametrize("language", sorted(STORIES))
def test_a_story_in_another_script_is_indexed_with_its_language(
    settings: Settings,
    redis_client: redis.Redis,
    es: Elasticsearch,
    ledger: Ledger,
    clean_state: None,
    language: str,
) -> None:
    from worker.compose import pipeline_context
    from worker.pipeline.batch import process_file

    title, body, word = STORIES[language]
    path = settings.inbox / "world" / f"{language}.txt"
    path.parent.mkdir(parents=True)
    path.write_text(f"{title}\n\n{body}\n", encoding="utf-8")

    assert process_file(str(path), pipeline_context(settings, client=redis_client, es=es)) == (
        "indexed"
    )

    entry = ledger.get(str(path))
    assert entry is not None
    doc = es.get(index=settings.alias, id=entry.doc_id)["_source"]
    assert doc["language"] == language
    assert doc["title"] == title
    # ftfy folds fullwidth punctuation to its ASCII form ("，" -> ","): the text is the same
    # once both are in NFKC.
    assert unicodedata.normalize("NFKC", doc["body"]) == unicodedata.normalize("NFKC", body)
    assert search_ids(es, settings.alias, word) == {entry.doc_id}
