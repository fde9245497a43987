"""Same story: documents about one event from different outlets share a story id.

Different outlets word the same event differently (the two seeds share 1% of their word
5-grams), but they name the same people and places around the same day. Stories are linked,
never merged: each document stays, with the story id of the first one it matched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch

from tasks.document import Document

MIN_SHARED_PEOPLE = 2
MIN_OVERLAP = 0.2
WINDOW = timedelta(days=3)
_FIELDS = ("people", "places", "organizations")


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


def link_stories(docs: Sequence[Document], es: Elasticsearch, index: str) -> list[Document]:
    """Give each document the story id of the indexed (or earlier batch) document it matches.

    Candidates are documents sharing a person; the overlap of all entities decides.
    """
    linked: list[Document] = []
    searchable = [d for d in docs if len(d.people) >= MIN_SHARED_PEOPLE]
    found: dict[str, list[dict[str, Any]]] = {}
    if searchable:
        body: list[dict[str, Any]] = []
        for doc in searchable:
            body += [
                {"index": index},
                {
                    "query": {
                        "bool": {
                            "filter": [{"terms": {"people": doc.people}}],
                            "must_not": [{"ids": {"values": [doc.doc_id]}}],
                        }
                    },
                    "size": 20,
                    "_source": [*_FIELDS, "published", "published_from", "story_id"],
                },
            ]
        responses = es.msearch(searches=body)["responses"]
        for doc, response in zip(searchable, responses, strict=True):
            found[doc.doc_id] = [h["_source"] for h in response.get("hits", {}).get("hits", [])]
    for doc in docs:
        if doc.story_id:
            linked.append(doc)
            continue
        mine = _fields(doc)
        earlier = [_fields(d) for d in linked]  # documents of this batch count too
        story = _best(mine, [*found.get(doc.doc_id, []), *earlier])
        linked.append(doc.replace(story_id=story or doc.doc_id))
    return linked
