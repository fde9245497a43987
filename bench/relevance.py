"""Relevance of the old and the new search on a labelled query set: nDCG@10 and recall@10.

    python -m bench.relevance [--verbose] [--labels]

The 61 real articles of the article-extraction dev set (title and gold body) go into two
fresh indices: "old" is mapping v3 (the `standard` analyzer on title and body) searched with
v3's query (one simple_query_string over title^3 and body); "new" is the current mapping
(search/mapping.py) searched with the current query builder (search/query.py). Queries and
the rule that labels their relevant documents are in bench/relevance_queries.yaml. Both
indices are deleted at the end.
"""

from __future__ import annotations

import argparse
import math
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from elasticsearch import Elasticsearch, helpers

from bench.corpus import load_articles
from search.client import make_client
from search.mapping import MAPPINGS, SETTINGS
from search.query import SearchParams, build_search
from search.typos import find_spellings

QUERIES = Path(__file__).with_name("relevance_queries.yaml")
K = 10
_WORD = re.compile(r"\w+")
# Letters NFKD does not take apart, folded as Lucene's ASCIIFoldingFilter does.
_FOLD = str.maketrans({"ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ı": "i"})
# Mapping v3's text fields, as they were before the exact subfields and English analysis.
# The analyzer is named, so a default analyzer in the current settings cannot change them.
V3_TEXT_FIELDS: dict[str, Any] = {
    "title": {
        "type": "text",
        "analyzer": "standard",
        "fields": {"keyword": {"type": "keyword", "ignore_above": 1024}},
    },
    "body": {"type": "text", "analyzer": "standard"},
}
SAME_DATE = "2020-01-01T00:00:00Z"  # ties are broken by document id alone


@dataclass(frozen=True)
class Query:
    q: str
    kind: str
    groups: tuple[tuple[str, ...], ...] = ()
    """Relevant: a form of every group is in the document."""
    phrase: tuple[str, ...] = ()
    """Relevant: these words in this order are in the document."""


def words(text: str) -> list[str]:
    """Lowercased, ASCII-folded word tokens."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_FOLD))
    return _WORD.findall("".join(c for c in decomposed if not unicodedata.combining(c)))


def load_queries(path: Path = QUERIES) -> list[Query]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for kind, entries in raw.items():
        for entry in entries:
            groups = tuple(tuple(w for f in g for w in words(str(f))) for g in entry.get("all", []))
            phrase = tuple(words(entry.get("phrase", "")))
            out.append(Query(str(entry["q"]), kind, groups, phrase))
    return out


def is_relevant(query: Query, tokens: list[str], vocabulary: set[str]) -> bool:
    if query.phrase:
        n = len(query.phrase)
        return any(tuple(tokens[i : i + n]) == query.phrase for i in range(len(tokens) - n + 1))
    return all(vocabulary & set(group) for group in query.groups)


def documents() -> list[dict[str, Any]]:
    return [
        {
            "doc_id": a.id,
            "title": a.title or "",
            "body": "\n\n".join(a.paragraphs),
            "published": SAME_DATE,
        }
        for a in load_articles()
    ]


def labels(queries: list[Query], docs: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Query text -> ids of its relevant documents, by the query's rule."""
    tokenised = [(d["doc_id"], words(f"{d['title']}\n{d['body']}")) for d in docs]
    vocab = {doc_id: set(tokens) for doc_id, tokens in tokenised}
    return {
        q.q: {doc_id for doc_id, tokens in tokenised if is_relevant(q, tokens, vocab[doc_id])}
        for q in queries
    }


def ndcg_at_k(ranked: list[str], relevant: set[str], k: int = K) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if d in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal if ideal else 0.0


def recall_at_k(ranked: list[str], relevant: set[str], k: int = K) -> float:
    return len(set(ranked[:k]) & relevant) / len(relevant) if relevant else 0.0


def old_body(es: Elasticsearch, index: str, q: str) -> dict[str, Any]:
    """Mapping v3's query, kept as it was: one simple_query_string, all words required."""
    return {
        "query": {
            "bool": {
                "must": [
                    {
                        "simple_query_string": {
                            "query": q,
                            "fields": ["title^3", "body"],
                            "default_operator": "and",
                        }
                    }
                ],
                "filter": [],
            }
        },
        "size": K,
        "sort": ["_score", {"published": "desc"}, {"doc_id": "asc"}],
    }


def new_body(es: Elasticsearch, index: str, q: str) -> dict[str, Any]:
    """The API's request (typo spellings looked up first), without facets and highlights."""
    spellings = find_spellings(es, index, q)
    body = build_search(SearchParams(q=q, per_page=K, collapse=False, spellings=spellings))
    for unused in ("aggs", "highlight"):
        body.pop(unused, None)
    return body


def create(
    es: Elasticsearch, index: str, mappings: dict[str, Any], docs: list[dict[str, Any]]
) -> None:
    # The settings carry the analysis the current mapping needs; v3's fields use none of it.
    es.indices.create(index=index, mappings=mappings, settings=SETTINGS)
    helpers.bulk(es, ({"_index": index, "_id": d["doc_id"], "_source": d} for d in docs))
    es.indices.refresh(index=index)


def rank(es: Elasticsearch, index: str, body: dict[str, Any]) -> list[str]:
    found = es.search(index=index, body={**body, "_source": False})
    return [h["_id"] for h in found["hits"]["hits"]]


def evaluate(
    es: Elasticsearch,
    index: str,
    queries: list[Query],
    relevant: dict[str, set[str]],
    make_body: Callable[[Elasticsearch, str, str], dict[str, Any]],
) -> dict[str, tuple[float, float]]:
    """Query text -> (nDCG@10, recall@10)."""
    scores = {}
    for query in queries:
        ranked = rank(es, index, make_body(es, index, query.q))
        wanted = relevant[query.q]
        scores[query.q] = (ndcg_at_k(ranked, wanted), recall_at_k(ranked, wanted))
    return scores


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def report(
    queries: list[Query],
    old: dict[str, tuple[float, float]],
    new: dict[str, tuple[float, float]],
) -> str:
    lines = [
        f"{'class':<12} {'queries':>7}  {'nDCG@10 old':>11} {'new':>6}  "
        f"{'recall@10 old':>13} {'new':>6}"
    ]
    kinds = list(dict.fromkeys(q.kind for q in queries))
    for kind in [*kinds, "overall"]:
        chosen = [q.q for q in queries if kind in (q.kind, "overall")]
        lines.append(
            f"{kind:<12} {len(chosen):>7}  "
            f"{_mean(old[q][0] for q in chosen):>11.3f} {_mean(new[q][0] for q in chosen):>6.3f}  "
            f"{_mean(old[q][1] for q in chosen):>13.3f} {_mean(new[q][1] for q in chosen):>6.3f}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--es-url", default="http://127.0.0.1:9200")
    parser.add_argument("--verbose", action="store_true", help="figures of every query")
    parser.add_argument("--labels", action="store_true", help="print the relevant documents")
    args = parser.parse_args()

    docs = documents()
    queries = load_queries()
    relevant = labels(queries, docs)
    empty = [q for q, found in relevant.items() if not found]
    if empty:
        raise SystemExit(f"queries without a relevant document (fix their rule): {empty}")
    titles = {d["doc_id"]: d["title"] for d in docs}
    if args.labels:
        for query in queries:
            print(f"{query.kind:<11} {query.q!r}: {len(relevant[query.q])}")
            for doc_id in sorted(relevant[query.q]):
                print(f"    {doc_id[:12]}  {titles[doc_id][:80]}")
        return

    es = make_client(args.es_url, request_timeout=60)
    prefix = f"bench-relevance-{uuid.uuid4().hex[:6]}"
    old_index, new_index = f"{prefix}-v3", f"{prefix}-new"
    v3 = deepcopy(MAPPINGS)
    v3["properties"].update(deepcopy(V3_TEXT_FIELDS))
    try:
        create(es, old_index, v3, docs)
        create(es, new_index, MAPPINGS, docs)
        old = evaluate(es, old_index, queries, relevant, old_body)
        new = evaluate(es, new_index, queries, relevant, new_body)
    finally:
        es.options(ignore_status=404).indices.delete(index=f"{old_index},{new_index}")
    print(
        f"{len(docs)} documents (article-extraction dev set, title + gold body), "
        f"{len(queries)} queries, {sum(map(len, relevant.values()))} relevant pairs"
    )
    print(report(queries, old, new))
    if args.verbose:
        for query in queries:
            (o_n, o_r), (n_n, n_r) = old[query.q], new[query.q]
            print(
                f"  {query.kind:<11} {query.q!r:<32} rel {len(relevant[query.q]):>2}  "
                f"nDCG {o_n:.2f} -> {n_n:.2f}  recall {o_r:.2f} -> {n_r:.2f}"
            )


if __name__ == "__main__":
    main()
