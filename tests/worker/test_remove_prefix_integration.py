"""compose.remove_prefix: what a test's or a bench's prefix leaves behind, and only that."""

from __future__ import annotations

import redis
from elasticsearch import Elasticsearch

from search.events import ensure_events_index, events_alias, events_pattern
from search.index import ensure_index
from worker import compose
from worker.celery_app import celery_app, queues_of
from worker.settings import Settings


def _footprint(own: Settings, client: redis.Redis, es: Elasticsearch) -> dict[str, list[str]]:
    """The Redis keys and Elasticsearch names of a prefix: its ledger, queues and indices."""
    queues = queues_of(own)
    keys = sorted(
        {
            *client.scan_iter(f"{own.key_prefix}*"),
            *(q for q in queues if client.exists(q)),
            *(k for q in queues for k in client.scan_iter(f"_kombu.binding*.{q}")),
        }
    )
    indices = es.options(ignore_status=404).indices.get(
        index=f"{own.alias}-v*,{events_pattern(own.index_prefix)}", allow_no_indices=True
    )
    templates = [
        name
        for name in (own.alias, events_alias(own.index_prefix))
        if es.indices.exists_index_template(name=name)
    ]
    return {"keys": keys, "indices": sorted(indices), "templates": templates}


def _fill(own: Settings, client: redis.Redis, es: Elasticsearch) -> None:
    """What a run leaves: a ledger entry, a queued message of each phase, both indices."""
    client.hset(f"{own.key_prefix}file:/inbox/a.txt", mapping={"state": "indexed"})
    client.set(f"{own.key_prefix}lease:/inbox/a.txt", "1")
    app = celery_app(own)
    for queue in queues_of(own):
        app.send_task("dropsift.process_files", args=[["/inbox/a.txt"]], queue=queue)
    ensure_index(es, own.alias)
    ensure_events_index(es, own.index_prefix)


def test_remove_prefix_leaves_nothing_of_it_and_spares_a_longer_prefix(
    settings: Settings, redis_client: redis.Redis, es: Elasticsearch
) -> None:
    own = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}-rm"})
    # Starts with the same letters: a glob on "…-rm*" would take it too.
    longer = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}-rm-b"})
    try:
        for s in (own, longer):
            _fill(s, redis_client, es)
        before = _footprint(own, redis_client, es)
        assert set(queues_of(own)) < set(before["keys"])
        assert len(before["indices"]) == 2 and len(before["templates"]) == 2
        spared = _footprint(longer, redis_client, es)

        compose.remove_prefix(own, redis_client, es)

        assert _footprint(own, redis_client, es) == {"keys": [], "indices": [], "templates": []}
        assert _footprint(longer, redis_client, es) == spared
    finally:
        compose.remove_prefix(own, redis_client, es)
        compose.remove_prefix(longer, redis_client, es)
    assert _footprint(longer, redis_client, es) == {"keys": [], "indices": [], "templates": []}


def test_remove_prefix_spares_indices_its_wildcards_match_but_are_not_its_own(
    settings: Settings, redis_client: redis.Redis, es: Elasticsearch
) -> None:
    """'<alias>-v*' and '<prefix>-events-*' also match names another prefix could build."""
    own = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}-rm"})
    others = [f"{own.alias}-vx-docs-v5", f"{events_alias(own.index_prefix)}-x-events-2026.12.01"]
    try:
        _fill(own, redis_client, es)
        for name in others:
            es.indices.create(index=name)

        compose.remove_prefix(own, redis_client, es)

        assert _footprint(own, redis_client, es)["templates"] == []
        left = es.indices.get(index=f"{own.alias}-v*,{events_pattern(own.index_prefix)}")
        assert sorted(left) == sorted(others)
    finally:
        compose.remove_prefix(own, redis_client, es)
        es.options(ignore_status=404).indices.delete(index=",".join(others))
