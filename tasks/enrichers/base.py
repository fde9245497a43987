"""What an enricher is: a named step that fills in fields of a batch of documents."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from tasks.document import Document


@runtime_checkable
class Enricher(Protocol):
    """A named enrichment step; batch-wise so model-backed steps can batch their inference."""

    name: str

    def enrich(self, docs: list[Document]) -> list[Document]:
        """Return the documents with this step's fields filled in (copies, inputs untouched)."""
        ...
