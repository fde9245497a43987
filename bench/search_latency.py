"""Search latency through the HTTP API: q + five facets + highlight, autocomplete, cursor pages.

    python -m bench.search_latency --n 100000      # the reported figure
    python -m bench.search_latency --n 5000        # a quick try

Documents come from bench/corpus.py (real article bodies, their page titles, planted dates
and bylines) with facet values drawn from seeded pools, and are bulk-loaded straight into a
fresh index of a bench prefix (no pipeline: this measures search). The API runs as its own
process (`dropsift api`), called over HTTP by one keep-alive client, one request at a time,
after a warm-up. The index is deleted at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import httpx
from elasticsearch import Elasticsearch, helpers

from bench.corpus import LabelledDoc, load_articles, news_documents
from bench.serve import in_process
from search.client import make_client
from search.index import drop_all, ensure_index
from search.query import (
    SearchParams,
    build_histogram,
    build_search,
    published_range,
)
from search.typos import build_spelling_request, parse_spellings

FIVE_FACETS = ("language", "section", "site", "people", "keywords")
_SYLLABLES = ("ka", "lo", "mi", "ra", "ne", "to", "vi", "sa", "du", "pe", "an", "or", "el")
_SECTIONS = ("World", "Business", "Politics", "Technology", "Science", "Health", "Sport")
_NAME = re.compile(r"\b[A-Z][a-z]{2,} [A-Z][a-z]{2,}\b")
_LONG_WORD = re.compile(r"\b[a-z]{6,}\b")
_FIRST = datetime(2018, 1, 1)


def _pool(rng: random.Random, n: int, words: int) -> list[str]:
    def word() -> str:
        return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()

    return sorted({" ".join(word() for _ in range(words)) for _ in range(n)})


def _skewed(rng: random.Random, pool: list[str]) -> str:
    """A few values are common, most are rare (as people and places are in news)."""
    return pool[int(len(pool) * rng.random() ** 3)]


class Generator:
    """Index documents from the corpus generator, facet values from seeded pools."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(f"pools:{seed}")
        self.seed = seed
        self.people = _pool(rng, 5000, 2)
        self.places = _pool(rng, 800, 1)
        self.organizations = _pool(rng, 1500, 2)
        self.sites = [f"{w.lower()}.example" for w in _pool(rng, 60, 1)]
        self.authors = _pool(rng, 400, 2)
        self.titles = {a.id: a.title for a in load_articles()}

    def document(self, index: int, labelled: LabelledDoc) -> dict[str, Any]:
        rng = random.Random(f"facets:{self.seed}:{index}")
        body = labelled.gold_body
        doc_id = hashlib.sha256(f"{self.seed}:{index}".encode()).hexdigest()
        title = labelled.gold_title or self.titles.get(labelled.sources[0]) or body[:60]
        published = labelled.gold_published or _FIRST + timedelta(minutes=rng.randrange(3_600_000))
        real_people = list(dict.fromkeys(_NAME.findall(body)))[:3]
        common = [w for w, _ in Counter(_LONG_WORD.findall(body)).most_common(5)]
        return {
            "doc_id": doc_id,
            "title": title,
            "body": body,
            "format": "txt",
            "sources": [f"/inbox/{labelled.name}.txt"],
            "section": rng.choice(_SECTIONS),
            "author": labelled.gold_author or _skewed(rng, self.authors),
            "site": _skewed(rng, self.sites),
            "language": "en" if rng.random() < 0.9 else rng.choice(("de", "fr", "es")),
            "word_count": len(body.split()),
            "people": real_people + [_skewed(rng, self.people) for _ in range(rng.randint(0, 2))],
            "places": [_skewed(rng, self.places) for _ in range(rng.randint(0, 3))],
            "organizations": [_skewed(rng, self.organizations) for _ in range(rng.randint(0, 2))],
            "keywords": common,
            "cluster_id": doc_id,
            "canonical": True,
            "story_id": doc_id,
            "published": published.isoformat(),
            "published_from": "text" if labelled.gold_published else "ingested",
        }

    def documents(self, n: int) -> Iterator[dict[str, Any]]:
        for i, labelled in enumerate(news_documents(n, self.seed)):
            yield self.document(i, labelled)


def load(es: Elasticsearch, alias: str, n: int, seed: int) -> float:
    """Bulk-load n documents with refreshes off; seconds taken."""
    index = ensure_index(es, alias)
    es.indices.put_settings(index=index, settings={"refresh_interval": "-1"})
    started = time.monotonic()
    docs = Generator(seed).documents(n)
    actions = ({"_index": index, "_id": d["doc_id"], "_source": d} for d in docs)
    done = 0
    for ok, _ in helpers.streaming_bulk(
        es, actions, chunk_size=500, max_chunk_bytes=8 * 1024 * 1024, raise_on_error=True
    ):
        done += ok
        if done % 10_000 == 0:
            print(f"  {done} documents loaded ({time.monotonic() - started:.0f} s)", flush=True)
    es.indices.put_settings(index=index, settings={"refresh_interval": "1s"})
    es.indices.refresh(index=index)
    return time.monotonic() - started


def _typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word))  # the first letter stays
    return word[:i] + rng.choice("aeiourstln") + word[i + 1 :]


def queries(n: int, seed: int) -> list[dict[str, Any]]:
    """A seeded mix: one word, two words, a phrase, a typo, and some with a facet selected."""
    rng = random.Random(f"queries:{seed}")
    articles = load_articles()
    vocabulary = sorted(
        {w.lower() for a in articles for w in re.findall(r"[A-Za-z]{4,}", a.title or "")}
    )
    out = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.4:
            q = rng.choice(vocabulary)
        elif roll < 0.6:
            q = f"{rng.choice(vocabulary)} {rng.choice(vocabulary)}"
        elif roll < 0.7:
            paragraph = rng.choice(rng.choice(articles).paragraphs).split()
            start = rng.randrange(max(len(paragraph) - 1, 1))
            q = f'"{" ".join(paragraph[start : start + 2])}"'
        else:
            long_words = [w for w in vocabulary if len(w) >= 5] or vocabulary
            q = _typo(rng, rng.choice(long_words))
        params: dict[str, Any] = {"q": q, "facets": list(FIVE_FACETS)}
        if rng.random() < 0.15:
            params["section"] = rng.choice(_SECTIONS)
        out.append(params)
    return out


def prefixes(n: int, seed: int) -> list[str]:
    """What people have typed of a title: a word or two and part of the next."""
    rng = random.Random(f"typed:{seed}")
    titles = [a.title for a in load_articles() if a.title]
    out = []
    for _ in range(n):
        title = rng.choice(titles)
        out.append(title[: rng.randint(3, min(len(title), 24))])
    return out


def _timed(client: httpx.Client, path: str, params: Any) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = client.get(path, params=params)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{path} {params}: {response.status_code} {response.text[:300]}")
    return elapsed, response.json()


def _summary(name: str, ms: list[float]) -> str:
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return (
        f"{name:<34} n={len(ms):<5} p50 {cuts[49]:6.1f} ms  p95 {cuts[94]:6.1f} ms  "
        f"p99 {cuts[98]:6.1f} ms  mean {statistics.fmean(ms):6.1f} ms"
    )


def measure(url: str, n_queries: int, seed: int) -> list[str]:
    lines = []
    mix = queries(n_queries, seed)
    with httpx.Client(base_url=url, timeout=60) as client:
        for params in mix[:50]:  # warm-up: caches, JIT, connections
            _timed(client, "/api/search", params)
        five: list[float] = []
        every: list[float] = []
        # Alternated, so neither variant gets the other's warm caches.
        for params in mix:
            five.append(_timed(client, "/api/search", params)[0])
            all_facets = {k: v for k, v in params.items() if k != "facets"}
            every.append(_timed(client, "/api/search", all_facets)[0])
        lines.append(_summary("search: q + 5 facets + highlight", five))
        lines.append(_summary("search: q + all 11 facets (default)", every))
        typed = prefixes(n_queries, seed)
        for prefix in typed[:30]:
            _timed(client, "/api/autocomplete", {"q": prefix})
        lines.append(
            _summary(
                "autocomplete", [_timed(client, "/api/autocomplete", {"q": p})[0] for p in typed]
            )
        )
        first_pages: list[float] = []
        next_pages: list[float] = []
        for params in mix[: max(n_queries // 10, 5)]:
            cursor: str | None = "*"
            for _ in range(10):
                paged = {**params, "per_page": 20, "cursor": cursor}
                ms, page = _timed(client, "/api/search", paged)
                (first_pages if cursor == "*" else next_pages).append(ms)
                cursor = page["next_cursor"]
                if cursor is None:
                    break
        lines.append(_summary("cursor: first page (opens it)", first_pages))
        if len(next_pages) >= 2:
            lines.append(_summary("cursor: next pages", next_pages))
    return lines


def breakdown(es: Elasticsearch, alias: str, n_queries: int, seed: int) -> list[str]:
    """Elasticsearch's own time (took) for each request one search makes."""
    spelling: list[float] = []
    main: list[float] = []
    histogram: list[float] = []
    for raw in queries(n_queries, seed):
        q = raw["q"]
        params = SearchParams(q=q, facets=FIVE_FACETS)
        body = build_spelling_request(q)
        if body is not None:
            found = es.search(index=alias, body=body).body
            spelling.append(float(found["took"]))
            params = replace(params, spellings=parse_spellings(q, found))
        response = es.search(index=alias, body=build_search(params)).body
        main.append(float(response["took"]))
        span = published_range(response)
        if span:
            counted = es.search(index=alias, body=build_histogram(params, *span))
            histogram.append(float(counted["took"]))
    return [
        _summary("  took: typo spellings", spelling),
        _summary("  took: hits + facets + highlight", main),
        _summary("  took: date histogram", histogram),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000, help="documents to index")
    parser.add_argument("--queries", type=int, default=500, help="requests per measurement")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--es-url", default="http://127.0.0.1:9200")
    args = parser.parse_args()

    prefix = f"bench-latency-{uuid.uuid4().hex[:6]}"
    alias = f"{prefix}-docs"
    es = make_client(args.es_url, request_timeout=300)
    try:
        print(f"loading {args.n} documents into {alias}", flush=True)
        seconds = load(es, alias, args.n, args.seed)
        stats = es.indices.stats(index=alias, metric="store,docs")["_all"]["primaries"]
        env = {
            "DROPSIFT_ES_URL": args.es_url,
            "DROPSIFT_INDEX_PREFIX": prefix,
            "DROPSIFT_LOG_LEVEL": "WARNING",
            "DROPSIFT_LOG_FORMAT": "json",
        }
        with in_process(env) as url:
            lines = measure(url, args.queries, args.seed)
        lines += breakdown(es, alias, args.queries, args.seed)
    finally:
        drop_all(es, alias)
    print(
        f"{stats['docs']['count']} documents, {stats['store']['size_in_bytes'] / 2**20:.0f} MB "
        f"index, loaded in {seconds:.0f} s; {os.cpu_count()} cores; one client, sequential"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
