"""Near-duplicate clusters for the documents of a batch (stories are phase 2's)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tasks.neardup import shingles
from worker.pipeline.context import Context

if TYPE_CHECKING:
    from worker.pipeline.batch import FileWork


def link(works: list[FileWork], ctx: Context) -> None:
    """Give each document of the batch its near-duplicate cluster.

    The batch's claims go to Redis in one round trip, in order (a document sees the earlier
    ones of its batch); the canonicals that a match near the threshold is checked against
    are read from the batch, or from the index in one request.
    """
    docs = [doc for work in works for doc in work.owners]
    bodies = {doc.doc_id: doc.body for doc in docs}

    def canonical_shingles(ids: set[str]) -> dict[str, set[int] | None]:
        """The canonicals' shingles (None: not indexed yet)."""
        indexed = ctx.sink.read(ids - bodies.keys(), ["body"])
        found = {i: bodies.get(i) or indexed.get(i, {}).get("body") for i in ids}
        return {i: shingles(body) if body else None for i, body in found.items()}

    clusters = iter(
        ctx.neardup.claim_confirmed_many(
            [(doc.doc_id, shingles(doc.body)) for doc in docs], canonical_shingles
        )
    )
    for work in works:
        work.owners = [
            doc.replace(cluster_id=c.cluster_id, canonical=c.canonical, similarity=c.similarity)
            for doc, c in zip(work.owners, clusters, strict=False)
        ]
