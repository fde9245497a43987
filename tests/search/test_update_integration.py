"""Phase 2's conditional updates in place, on the real Elasticsearch."""

from __future__ import annotations

import pytest
from elasticsearch import Elasticsearch

from search.indexer import IndexSink
from tasks.document import Document
from worker import compose
from worker.settings import Settings

pytestmark = pytest.mark.integration


def _index(sink: IndexSink, doc_id: str, body: str) -> None:
    doc = Document(source=f"/in/{doc_id}.txt", text=body, body=body, doc_id=doc_id)
    assert sink.bulk([(doc_id, doc.to_index())]).indexed == [doc_id]


def test_an_update_applies_only_to_the_document_as_read_and_never_creates_one(
    settings: Settings, es: Elasticsearch, clean_state: None
) -> None:
    sink = compose.index_sink(settings, es)
    _index(sink, "same", "the text as read")
    _index(sink, "rewritten", "the first text")
    _index(sink, "deleted", "a text about to go")
    read = sink.read_versions(["same", "rewritten", "deleted", "never"], ["body"])
    assert sorted(read) == ["deleted", "rewritten", "same"]
    _index(sink, "rewritten", "a second text")  # indexed again meanwhile
    sink.delete("deleted")

    fields = {"people": ["Ada Lovelace"], "enriched": True}
    outcome = sink.update_if_unchanged([(i, read[i], fields) for i in sorted(read)])

    assert outcome.updated == ["same"]
    assert outcome.changed == ["rewritten"]
    assert outcome.gone == ["deleted"]
    assert not es.exists(index=settings.alias, id="deleted")
    assert es.get(index=settings.alias, id="same")["_source"]["people"] == ["Ada Lovelace"]
    rewritten = es.get(index=settings.alias, id="rewritten")["_source"]
    assert rewritten["enriched"] is False and rewritten["people"] == []
