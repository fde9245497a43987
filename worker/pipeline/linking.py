"""Near-duplicate clusters and same-story links for the documents of a batch."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from tasks.document import Document
from tasks.neardup import shingles
from tasks.story import link_stories
from worker.pipeline.context import Context

if TYPE_CHECKING:
    from worker.pipeline.batch import FileWork


Timer = Callable[[str], AbstractContextManager[None]]


def link(works: list[FileWork], ctx: Context, timed: Timer = lambda _: nullcontext()) -> None:
    """Give each document of the batch its cluster and its story."""
    with timed("neardup"):
        bodies = {doc.doc_id: doc.body for work in works for doc in work.owners}
        # Canonicals read from the index for this batch: each one once, whatever its copies.
        indexed: dict[str, dict[str, Any]] = {}
        for work in works:
            work.owners = [_cluster(doc, bodies, indexed, ctx) for doc in work.owners]
    with timed("story"):
        _stories(works, indexed, ctx)


def _stories(works: list[FileWork], indexed: dict[str, dict[str, Any]], ctx: Context) -> None:
    owners = [doc for work in works for doc in work.owners]
    # A near-copy belongs to its canonical's story; the others are matched on entities.
    stories = {
        d.doc_id: d.story_id
        for d in link_stories([d for d in owners if d.canonical], ctx.sink, ctx.stories)
    }
    # Near-copies of documents indexed earlier take those documents' stories: one mget.
    earlier = {
        d.cluster_id
        for d in owners
        if d.cluster_id and d.doc_id not in stories and d.cluster_id not in stories
    }
    indexed.update(ctx.sink.read(earlier - indexed.keys(), ["story_id"]))
    for work in works:
        work.owners = [
            doc.replace(
                story_id=stories.get(doc.doc_id)
                or stories.get(doc.cluster_id or "")
                or _story_of(doc.cluster_id or doc.doc_id, indexed)
            )
            for doc in work.owners
        ]


def _cluster(
    doc: Document, bodies: dict[str, str], indexed: dict[str, dict[str, Any]], ctx: Context
) -> Document:
    def canonical_shingles(doc_id: str) -> set[int] | None:
        """The canonical's shingles, from this batch or the index (None: not indexed yet)."""
        body = bodies.get(doc_id)
        if body is None:
            if doc_id not in indexed:
                # Its story too: the near-copy will want it.
                indexed.update(ctx.sink.read({doc_id}, ["body", "story_id"]))
            body = indexed[doc_id].get("body")
        return shingles(body) if body else None

    found = ctx.neardup.claim_confirmed(doc.doc_id, shingles(doc.body), canonical_shingles)
    return doc.replace(
        cluster_id=found.cluster_id, canonical=found.canonical, similarity=found.similarity
    )


def _story_of(doc_id: str, indexed: dict[str, dict[str, Any]]) -> str:
    """The story of an indexed document (a near-copy's canonical), or its own id."""
    return str(indexed.get(doc_id, {}).get("story_id") or doc_id)
