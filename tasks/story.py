"""Same story: documents about one event from different outlets share a story id.

Different outlets word the same event differently (the two seeds share 1% of their word
5-grams), but they name the same people and places around the same day. Stories are linked,
never merged: each document stays, with the story id of the first one it matched.

Candidates come from the index (documents already searchable) and from Redis: every linked
document is remembered there for a few minutes, by the people it names, because a document
is searchable only a second or more after it was linked, and another worker may be linking
its counterpart meanwhile. Linking holds a short Redis lock, so of two documents linked at
the same moment, the second always sees the first, with its final story id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import redis
from redis.exceptions import LockError, LockNotOwnedError

from tasks.document import Document
from tasks.replies import as_text

MIN_SHARED_PEOPLE = 2
MIN_OVERLAP = 0.2
WINDOW = timedelta(days=3)
_FIELDS = ("people", "places", "organizations")
# How long the story lock outlives a holder that died with it.
LOCK_SECONDS = 10


def _names(values: Iterable[str]) -> set[str]:
    return {v.casefold() for v in values}


@dataclass(frozen=True)
class StoryMatch:
    shared_people: int
    overlap: float
    """Jaccard similarity of the two documents' people, places and organisations."""

    @property
    def same_story(self) -> bool:
        return self.shared_people >= MIN_SHARED_PEOPLE and self.overlap >= MIN_OVERLAP


def match(a: Mapping[str, Any], b: Mapping[str, Any]) -> StoryMatch:
    """How much two documents' entities overlap (documents as dicts of their fields)."""
    people = _names(a.get("people") or []) & _names(b.get("people") or [])
    ents_a = set().union(*(_names(a.get(f) or []) for f in _FIELDS))
    ents_b = set().union(*(_names(b.get(f) or []) for f in _FIELDS))
    union = ents_a | ents_b
    return StoryMatch(len(people), len(ents_a & ents_b) / len(union) if union else 0.0)


def _fields(doc: Document) -> dict[str, Any]:
    return {
        "doc_id": doc.doc_id,
        "people": doc.people,
        "places": doc.places,
        "organizations": doc.organizations,
        "published": doc.published,
        "published_from": doc.published_from,
        "story_id": doc.story_id or doc.doc_id,
    }


def _close_in_time(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Within the window when both dates come from the documents; else not held against them."""
    if a.get("published_from") == "ingested" or b.get("published_from") == "ingested":
        return True
    da, db = a.get("published"), b.get("published")
    if isinstance(da, str):
        da = datetime.fromisoformat(da)
    if isinstance(db, str):
        db = datetime.fromisoformat(db)
    if not isinstance(da, datetime) or not isinstance(db, datetime):
        return True
    return abs(da.replace(tzinfo=None) - db.replace(tzinfo=None)) <= WINDOW


def _best(doc: Mapping[str, Any], candidates: Iterable[Mapping[str, Any]]) -> str | None:
    best: tuple[float, str] | None = None
    for other in candidates:
        found = match(doc, other)
        better = best is None or found.overlap > best[0]
        if found.same_story and _close_in_time(doc, other) and better:
            best = (found.overlap, str(other["story_id"]))
    return best[1] if best else None


class RecentStories:
    """Documents linked in the last `ttl_seconds`, in Redis, by the people they name."""

    def __init__(
        self, client: redis.Redis, prefix: str, ttl_seconds: int = 300, lock_wait: float = 30
    ) -> None:
        self.r = client
        self.prefix = f"{prefix}story:"
        self.ttl = ttl_seconds
        self.lock_wait = lock_wait

    def _person_key(self, name: str) -> str:
        return f"{self.prefix}person:{name.casefold()}"

    def _doc_key(self, doc_id: str) -> str:
        return f"{self.prefix}doc:{doc_id}"

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the lock that orders linking across workers (one batch: milliseconds).

        It expires after LOCK_SECONDS, so a worker killed while holding it stalls the others
        that long at most; a holder outlived by its lock lets go without an error (the order
        is then not guaranteed, which costs a missed link, never a lost document). LockError
        when it is not had within `lock_wait` seconds.
        """
        lock = self.r.lock(
            f"{self.prefix}lock", timeout=LOCK_SECONDS, blocking_timeout=self.lock_wait
        )
        if not lock.acquire():
            raise LockError(f"story lock not free within {self.lock_wait}s")
        try:
            yield
        finally:
            with suppress(LockNotOwnedError):
                lock.release()

    def candidates(self, docs: Sequence[Document]) -> dict[str, list[dict[str, Any]]]:
        """Per document, the remembered documents that share at least one of its people."""
        pipe = self.r.pipeline(transaction=False)
        for doc in docs:
            pipe.sunion([self._person_key(name) for name in doc.people])
        ids = [
            sorted(set(map(as_text, found)) - {d.doc_id})
            for d, found in zip(docs, pipe.execute(), strict=True)
        ]
        wanted = sorted({i for group in ids for i in group})
        stored = self.r.mget([self._doc_key(i) for i in wanted]) if wanted else []
        # A record gone meanwhile (expired) is no candidate.
        records = {i: json.loads(v) for i, v in zip(wanted, stored, strict=True) if v is not None}
        return {
            doc.doc_id: [records[i] for i in group if i in records]
            for doc, group in zip(docs, ids, strict=True)
        }

    def remember(self, docs: Sequence[Document]) -> None:
        """Record the documents' entities, date and story, for `ttl_seconds`."""
        pipe = self.r.pipeline(transaction=False)
        for doc in docs:
            record = {**_fields(doc), "published": _iso(doc.published)}
            pipe.set(self._doc_key(doc.doc_id), json.dumps(record), ex=self.ttl)
            for name in doc.people:
                pipe.sadd(self._person_key(name), doc.doc_id)
                pipe.expire(self._person_key(name), self.ttl)
        pipe.execute()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class Searcher(Protocol):
    """Runs several searches over the documents in one request (search.indexer.IndexSink)."""

    def search_many(self, searches: list[dict[str, Any]]) -> list[dict[str, Any]]: ...


def link_stories(
    docs: Sequence[Document],
    index: Searcher,
    recent: RecentStories | None = None,
) -> list[Document]:
    """Give each document the story id of the document it matches: one indexed, one linked
    in the last minutes (`recent`), or an earlier one of this batch.

    Candidates are documents sharing a person; the overlap of all entities decides.
    """
    with recent.lock() if recent else nullcontext():
        linked = _link(docs, index, recent)
        if recent:
            recent.remember([d for d in linked if len(d.people) >= MIN_SHARED_PEOPLE])
    return linked


def _link(
    docs: Sequence[Document], index: Searcher, recent: RecentStories | None
) -> list[Document]:
    linked: list[Document] = []
    searchable = [d for d in docs if len(d.people) >= MIN_SHARED_PEOPLE]
    found: dict[str, list[dict[str, Any]]] = {}
    if searchable:
        responses = index.search_many(
            [
                {
                    "query": {
                        "bool": {
                            "filter": [{"terms": {"people": doc.people}}],
                            "must_not": [{"ids": {"values": [doc.doc_id]}}],
                        }
                    },
                    "size": 20,
                    "_source": [*_FIELDS, "published", "published_from", "story_id"],
                }
                for doc in searchable
            ]
        )
        for doc, response in zip(searchable, responses, strict=True):
            found[doc.doc_id] = [h["_source"] for h in response.get("hits", {}).get("hits", [])]
        if recent:
            for doc_id, records in recent.candidates(searchable).items():
                found[doc_id] += records
    for doc in docs:
        if doc.story_id:
            linked.append(doc)
            continue
        mine = _fields(doc)
        earlier = [_fields(d) for d in linked]  # documents of this batch count too
        story = _best(mine, [*found.get(doc.doc_id, []), *earlier])
        linked.append(doc.replace(story_id=story or doc.doc_id))
    return linked
