"""The test index and state: the seeds indexed from a clean start, and searches of them."""

from __future__ import annotations

import shutil

import redis
from elasticsearch import Elasticsearch

from search.index import drop_all, ensure_index
from worker import compose
from worker.settings import PROJECT_ROOT, Settings

SEEDS = PROJECT_ROOT / "seeds"


def _delete_all_documents(es: Elasticsearch, alias: str) -> None:
    # The distribution has no delete-by-query module: delete by id.
    es.indices.refresh(index=alias)
    ids = [h["_id"] for h in es.search(index=alias, size=10_000, source=False)["hits"]["hits"]]
    if ids:
        es.bulk(operations=[{"delete": {"_index": alias, "_id": i}} for i in ids], refresh=True)


def reset_state(settings: Settings, redis_client: redis.Redis, es: Elasticsearch) -> None:
    """Empty the test inbox, ledger, content registry and index."""
    shutil.rmtree(settings.inbox, ignore_errors=True)
    settings.inbox.mkdir(parents=True)
    keys = list(redis_client.scan_iter(f"{settings.key_prefix}*", count=1000))
    if keys:
        redis_client.delete(*keys)
    _delete_all_documents(es, settings.alias)


def index_seeds(settings: Settings, redis_client: redis.Redis, es: Elasticsearch) -> dict[str, str]:
    """From a clean state, the seeds through the pipeline function (no Celery needed here).

    Returns each seed's number ("000", "003") -> its document id; the index is refreshed.
    """
    from worker.pipeline.batch import process_file

    reset_state(settings, redis_client, es)
    # A fresh index: deleted documents count in term statistics until merged away, and earlier
    # tests' copies of the seeds would skew relevance (more-like-this) for the callers.
    drop_all(es, settings.alias)
    ensure_index(es, settings.alias)
    ctx = compose.pipeline_context(settings, client=redis_client, es=es)
    ids = {}
    for path in sorted(SEEDS.glob("*.txt")):
        assert process_file(str(path), ctx) == "indexed"
        entry = ctx.ledger.get(str(path))
        assert entry is not None
        ids[path.name[:3]] = entry.doc_id
    es.indices.refresh(index=settings.alias)
    return ids


def search_ids(es: Elasticsearch, alias: str, q: str) -> set[str]:
    es.indices.refresh(index=alias)
    response = es.search(
        index=alias,
        size=100,
        query={"simple_query_string": {"query": q, "fields": ["title", "body"]}},
    )
    return {h["_id"] for h in response["hits"]["hits"]}
