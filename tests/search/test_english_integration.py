"""English analysis on the real Elasticsearch: the filters, the mapping's analyzers, the seeds.

What the mapping alone decides (stemming, possessives, folding); typo tolerance and ranking
are the query's. CI runs this module on 9.x and on the 8.19 fallback.
"""

from __future__ import annotations

import pytest
import redis
from elasticsearch import Elasticsearch

from search.index import english_analysis
from tests.support.index import index_seeds, search_ids
from worker.settings import Settings

pytestmark = pytest.mark.integration


def _tokens(es: Elasticsearch, **request: object) -> list[str]:
    return [t["token"] for t in es.indices.analyze(**request)["tokens"]]  # type: ignore[arg-type]


def test_the_filters_stem_and_fold(es: Elasticsearch) -> None:
    tokens = _tokens(
        es,
        tokenizer="standard",
        filter=["lowercase", {"type": "stemmer", "language": "english"}, "asciifolding"],
        text="Talks negotiation café",
    )
    assert tokens == ["talk", "negoti", "cafe"]
    possessive = _tokens(
        es,
        tokenizer="standard",
        filter=[{"type": "stemmer", "language": "possessive_english"}],
        text="Putin’s Zelenskyy's",
    )
    assert possessive == ["Putin", "Zelenskyy"]


def test_the_cluster_says_where_its_english_analysis_comes_from(es: Elasticsearch) -> None:
    provider = english_analysis(es)
    assert provider in {"the dropsift-analysis plugin", "the analysis-common module"}


def test_the_mapping_stems_the_text_and_keeps_an_exact_subfield(
    es: Elasticsearch, settings: Settings
) -> None:
    text = "The Negotiators’ talks in Kyïv"
    english = _tokens(es, index=settings.alias, field="body", text=text)
    exact = _tokens(es, index=settings.alias, field="body.exact", text=text)
    # Stop words go from the stemmed field only; the exact one keeps every word, folded.
    assert english == ["negoti", "talk", "kyiv"]
    assert exact == ["the", "negotiators", "talks", "in", "kyiv"]
    assert _tokens(es, index=settings.alias, field="title.exact", text="Café") == ["cafe"]


@pytest.fixture(scope="module")
def seeds(settings: Settings, redis_client: redis.Redis, es: Elasticsearch) -> dict[str, str]:
    return index_seeds(settings, redis_client, es)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("talk", {"000", "003"}),  # both say "talks"
        ("negotiation", {"000", "003"}),  # "negotiator" in one, "negotiated" in the other
        ("Putin", {"000", "003"}),  # only as "Putin’s" in 003
        ("Kyïv", {"003"}),  # spelled "Kyiv" there
        ("Istanbul's", {"000", "003"}),  # the query's possessive goes too
    ],
)
def test_the_seeds_are_found_by_what_people_type(
    es: Elasticsearch,
    settings: Settings,
    seeds: dict[str, str],
    query: str,
    expected: set[str],
) -> None:
    assert search_ids(es, settings.alias, query) == {seeds[n] for n in expected}


def test_the_exact_subfield_is_not_stemmed(
    es: Elasticsearch, settings: Settings, seeds: dict[str, str]
) -> None:
    def exact(word: str) -> set[str]:
        query = {"match": {"body.exact": word}}
        return {h["_id"] for h in es.search(index=settings.alias, query=query)["hits"]["hits"]}

    assert exact("talks") == set(seeds.values())
    assert exact("talk") == set()
