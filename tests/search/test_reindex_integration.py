"""Moving to a new index version on the real Elasticsearch, while the old one keeps serving."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from search.index import alias_indices, concrete_name, drop_all, ensure_index, needs_reindex
from search.indexer import bulk_index
from search.mapping import MAPPING_VERSION, MAPPINGS
from search.reindex import reindex
from tests.worker.test_cli_integration import dropsift
from worker.settings import Settings

pytestmark = pytest.mark.integration

DOCS = 1_234  # three copy batches of 500


def _old_mappings() -> dict[str, Any]:
    """The mapping before English analysis: plain `standard` text, no exact subfields."""
    old = copy.deepcopy(MAPPINGS)
    old["properties"]["title"] = {"type": "text", "fields": {"keyword": {"type": "keyword"}}}
    old["properties"]["body"] = {"type": "text"}
    return old


def _doc(i: int) -> dict[str, Any]:
    return {
        "doc_id": f"d{i}",
        "title": f"Peace talks, day {i}",
        "body": f"The delegations held talks for the {i}th time.",
        "published": "2025-06-02T09:00:00Z",
    }


@pytest.fixture
def old_version(es: Elasticsearch, settings: Settings) -> Iterator[str]:
    """An alias of its own on an older version holding documents, as an upgrade finds it."""
    alias = f"{settings.index_prefix}-rx-docs"
    old = concrete_name(alias, MAPPING_VERSION - 1)
    es.indices.create(
        index=old,
        settings={"number_of_shards": 1, "number_of_replicas": 0},
        mappings=_old_mappings(),
        aliases={alias: {"is_write_index": True}},
    )
    outcome = bulk_index(es, alias, [(f"d{i}", _doc(i)) for i in range(DOCS)])
    assert len(outcome.indexed) == DOCS
    es.indices.refresh(index=alias)
    yield alias
    drop_all(es, alias)


def _count(es: Elasticsearch, index: str) -> int:
    es.indices.refresh(index=index)
    return int(es.count(index=index)["count"])


def test_an_older_version_keeps_the_alias_until_the_copy_is_done(
    es: Elasticsearch, old_version: str
) -> None:
    alias = old_version
    ensure_index(es, alias)
    # Searches and writes still go to the documents, not to an empty new index.
    assert alias_indices(es, alias) == [concrete_name(alias, MAPPING_VERSION - 1)]
    assert _count(es, alias) == DOCS
    assert needs_reindex(es, alias)


def test_a_fresh_install_creates_and_aliases_the_current_version(
    es: Elasticsearch, settings: Settings
) -> None:
    alias = f"{settings.index_prefix}-fresh-docs"
    try:
        assert ensure_index(es, alias) == concrete_name(alias)
        assert alias_indices(es, alias) == [concrete_name(alias)]
        assert not needs_reindex(es, alias)
    finally:
        drop_all(es, alias)


def test_reindex_copies_swaps_and_keeps_what_was_written_during_the_copy(
    es: Elasticsearch, old_version: str
) -> None:
    alias = old_version
    old, new = concrete_name(alias, MAPPING_VERSION - 1), concrete_name(alias)
    ensure_index(es, alias)
    during: dict[str, Any] = {}

    def write_during_the_copy(done: int, total: int) -> None:
        if during:
            return
        # The old index still serves and takes the pipeline's writes (through the alias).
        during["serving"] = alias_indices(es, alias)
        during["count"] = _count(es, alias)
        es.indices.refresh(index=new)
        copied = [h["_id"] for h in es.search(index=new, size=2, sort=["doc_id"])["hits"]["hits"]]
        during["updated"], during["deleted"] = copied
        es.index(index=alias, id="late", document={**_doc(99_999), "doc_id": "late"})
        es.update(index=alias, id=during["updated"], doc={"title": "Updated during the copy"})
        es.delete(index=alias, id=during["deleted"])

    report = reindex(es, alias, progress=write_during_the_copy, drop_old=False)

    assert during["serving"] == [old]
    assert during["count"] == DOCS
    assert alias_indices(es, alias) == [new]
    assert report.copied == DOCS
    assert (report.caught_up, report.deleted) == (2, 1)
    assert report.source_count == report.target_count == DOCS  # one added, one deleted
    assert _count(es, alias) == DOCS
    assert es.get(index=alias, id="late")["found"]
    assert es.get(index=alias, id=during["updated"])["_source"]["title"] == (
        "Updated during the copy"
    )
    assert not es.options(ignore_status=404).get(index=alias, id=during["deleted"])["found"]
    # The new analysis answers: "talk" finds documents that say "talks".
    es.indices.refresh(index=alias)
    hits = es.count(index=alias, query={"match": {"body": "talk"}})["count"]
    assert hits == DOCS
    assert reindex(es, alias).source is None  # done: nothing more to do


def test_reindex_drops_the_old_index_when_the_counts_agree(
    es: Elasticsearch, old_version: str
) -> None:
    alias = old_version
    ensure_index(es, alias)
    report = reindex(es, alias)
    assert report.source_count == report.target_count == DOCS
    assert not es.indices.exists(index=concrete_name(alias, MAPPING_VERSION - 1))
    assert alias_indices(es, alias) == [concrete_name(alias)]


def test_the_reindex_command_swaps_and_reports_the_counts(
    es: Elasticsearch, old_version: str, service_env: dict[str, str]
) -> None:
    alias = old_version
    prefix = alias.removesuffix("-docs")
    env = {**service_env, "DROPSIFT_INDEX_PREFIX": prefix}
    result = dropsift("reindex", env=env)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    said = " ".join(result.stdout.split())  # rich wraps long lines
    assert f"{DOCS} documents copied" in said
    assert f"counts {DOCS} (old) / {DOCS} (new)" in said
    assert alias_indices(es, alias) == [concrete_name(alias)]
    again = dropsift("reindex", env=env)
    assert "nothing to do" in again.stdout
