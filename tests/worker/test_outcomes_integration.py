"""Outcome records and metrics: what happened to each file, visible in Kibana and Prometheus."""

from __future__ import annotations

import dataclasses
import json
import shutil
import socket
import time
from pathlib import Path

import httpx
import pytest
import redis
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from search.api import create_app
from search.events import drop_events, events_alias
from tests.support.index import SEEDS
from tests.support.phases import keywords_later
from tests.support.procs import WorkerProcess
from tests.support.waiting import wait_for, wait_terminal
from worker import compose
from worker.enqueue import submit_many
from worker.metrics import mount_api_metrics
from worker.pipeline.batch import forget_files, process_files
from worker.pipeline.context import Context
from worker.pipeline.enrichment import enrich_documents
from worker.pipeline.ledger import Ledger
from worker.settings import Settings

pytestmark = pytest.mark.integration

SEED = SEEDS / "003_0fcbdef7ffe9cfd8.txt"


@pytest.fixture
def ctx(
    settings: Settings, redis_client: redis.Redis, es: Elasticsearch, clean_state: None
) -> Context:
    drop_events(es, settings.index_prefix)  # only this test's records
    context = compose.pipeline_context(settings, client=redis_client, es=es)
    context.config = dataclasses.replace(context.config, enrichers=("language", "stats"))
    return context


def _events(es: Elasticsearch, prefix: str) -> dict[tuple[str, str], dict]:  # type: ignore[type-arg]
    es.indices.refresh(index=events_alias(prefix))
    hits = es.search(index=events_alias(prefix), size=100)["hits"]["hits"]
    return {(h["_source"]["path"], h["_source"]["state"]): h["_source"] for h in hits}


def _handing_to_phase_2(
    settings: Settings, redis_client: redis.Redis, es: Elasticsearch
) -> tuple[Context, list[str]]:
    """A context whose phase 1 hands its documents to a list (phase 2: keywords); no records
    of earlier tests."""
    drop_events(es, settings.index_prefix)
    handed: list[str] = []
    ctx = keywords_later(settings, redis_client, es, handed.extend)
    return ctx, handed


def _outcomes(settings: Settings, ctx: Context) -> tuple[Path, Path, Path]:
    site = settings.inbox / "outlet"
    site.mkdir(parents=True)
    good, copy, empty = site / "good.txt", site / "copy.txt", site / "empty.txt"
    shutil.copy(SEED, good)
    shutil.copy(SEED, copy)
    empty.write_text("")
    sent: list[list[str]] = []  # queued as the watcher queues them; processed right here
    submit_many([good, copy, empty], ctx.ledger, sent.append, root=settings.inbox)
    process_files([str(good)], ctx)
    process_files([str(copy), str(empty)], ctx)
    return good, copy, empty


def test_every_outcome_is_a_record_of_the_outcomes_index(
    ctx: Context, settings: Settings, es: Elasticsearch
) -> None:
    good, copy, empty = _outcomes(settings, ctx)
    copy.unlink()
    forget_files([str(copy)], ctx)
    events = _events(es, settings.index_prefix)
    indexed = events[(str(good), "indexed")]
    assert indexed["site"] == "outlet" and indexed["format"] == "txt"
    assert indexed["timings"]["total_ms"] > indexed["timings"]["extract_ms"] > 0
    assert indexed["timings"]["index_ms"] > 0 and indexed["lag_seconds"] >= 0
    assert indexed["bytes"] == SEED.stat().st_size
    assert events[(str(copy), "duplicate")]["duplicate_of"] == str(good)
    assert events[(str(empty), "quarantined")]["reason"] == "empty"
    assert events[(str(copy), "deleted")]["detail"] == "the file was deleted from the inbox"
    # Phase 2 ran inline (no queue to send it to): one record for the one document.
    assert events[(str(good), "enriched")]["phase"] == 2
    assert len(events) == 5


def test_phase_2_outcomes_are_records_too(
    settings: Settings, redis_client: redis.Redis, es: Elasticsearch, clean_state: None
) -> None:
    """Each document enriched (or given up) in phase 2 is a record of its own, phase 2,
    under its owner's path, with the stages' times and the lag from the file's last write."""
    ctx, handed = _handing_to_phase_2(settings, redis_client, es)
    site = settings.inbox / "outlet"
    site.mkdir(parents=True)
    good, copy = site / "good.txt", site / "a-copy.txt"  # the copy's name sorts first
    shutil.copy(SEED, good)
    shutil.copy(SEED, copy)
    submit_many([good, copy], ctx.ledger, lambda _: None, root=settings.inbox)
    process_files([str(good)], ctx)
    process_files([str(copy)], ctx)
    assert enrich_documents(handed, ctx).enriched == handed
    events = _events(es, settings.index_prefix)
    assert events[(str(good), "indexed")]["phase"] == 1
    enriched = events[(str(good), "enriched")]
    assert enriched["phase"] == 2 and enriched["doc_id"] == handed[0]
    assert enriched["timings"]["enrich_ms"] > 0 and enriched["timings"]["index_ms"] > 0
    assert enriched["timings"]["total_ms"] >= enriched["timings"]["enrich_ms"]
    assert enriched["lag_seconds"] >= events[(str(good), "indexed")]["lag_seconds"]
    # A redelivery of the same task finds it enriched: marked again, not recorded again.
    again = enrich_documents(handed, ctx)
    assert (again.enriched, again.already) == ([], handed)
    assert set(_events(es, settings.index_prefix)) == {
        (str(good), "indexed"),
        (str(copy), "duplicate"),
        (str(good), "enriched"),
    }


def test_a_feed_items_phase_2_lag_is_from_the_append_that_delivered_it(
    settings: Settings, redis_client: redis.Redis, es: Elasticsearch, clean_state: None
) -> None:
    """A feed keeps growing: an item's drop-to-enriched lag counts from its own append, not
    from the feed's latest one (which phase 1 may have read before phase 2 gets to it)."""
    ctx, handed = _handing_to_phase_2(settings, redis_client, es)
    feed = settings.inbox / "items.jsonl"
    body = SEED.read_text()

    def append(title: str) -> None:
        with feed.open("a") as out:
            out.write(json.dumps({"title": title, "body": f"{title}. {body}"}) + "\n")
        submit_many([feed], ctx.ledger, lambda _: None, root=settings.inbox)
        process_files([str(feed)], ctx)

    append("The first item")
    first = list(handed)
    appended_at = time.time()
    time.sleep(1.5)
    append("The second item")  # the feed's entry now has the second append's time

    result = enrich_documents(first, ctx)

    assert result.enriched == first and len(result.latencies) == 1
    waited = time.time() - appended_at
    assert result.latencies[0] >= waited - 0.5  # not 0: the second append is not its own
    [record] = [
        r for (p, state), r in _events(es, settings.index_prefix).items() if state == "enriched"
    ]
    assert record["lag_seconds"] >= waited - 0.5


def test_the_api_serves_the_ledger_and_the_queue_as_metrics(
    ctx: Context, settings: Settings, es: Elasticsearch, ledger: Ledger
) -> None:
    _outcomes(settings, ctx)
    app = create_app(es, settings.alias)
    mount_api_metrics(app, ledger, [settings.index_prefix])
    text = TestClient(app).get("/metrics/").text
    assert 'dropsift_ledger_files{state="indexed"} 1.0' in text
    assert 'dropsift_ledger_files{state="duplicate"} 1.0' in text
    assert 'dropsift_ledger_files{state="deleted"} 0.0' in text
    assert 'dropsift_quarantined_files{reason="empty"} 1.0' in text
    assert f'dropsift_queue_depth{{queue="{settings.index_prefix}"}}' in text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_worker_serves_what_its_pool_children_counted(
    service_env: dict[str, str],
    settings: Settings,
    tmp_path: Path,
    redis_client: redis.Redis,
    es: Elasticsearch,
) -> None:
    # A queue, ledger and index of its own: the session's worker must not take these files.
    own = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}-metrics"})
    port = _free_port()
    env = {
        **service_env,
        "DROPSIFT_WORKER_METRICS_PORT": str(port),
        "DROPSIFT_INDEX_PREFIX": own.index_prefix,
        "DROPSIFT_ENRICHERS": '["language", "stats", "keywords"]',
    }
    worker = WorkerProcess(env, tmp_path / "worker.log")
    worker.start()
    try:
        path = settings.inbox / "metrics-seed.txt"
        shutil.copy(SEED, path)
        empty = settings.inbox / "metrics-empty.txt"
        empty.write_text("")
        own_ledger = compose.ledger(own, redis_client)
        submit_many([path, empty], own_ledger, compose.publisher(own).process, batch_size=1)
        wait_terminal(own_ledger, [path, empty])

        def metrics() -> str | None:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
            done = 'dropsift_files_total{reason="empty",state="quarantined"} 1.0' in text
            enriched = 'dropsift_enriched_documents_total{outcome="enriched"} 1.0' in text
            return text if done and enriched and 'state="indexed"} 1.0' in text else None

        text = wait_for(metrics, 30, what="the worker's metrics")
        assert 'dropsift_stage_seconds_count{stage="index"}' in text
        assert "dropsift_drop_to_indexed_seconds_count 1.0" in text  # the indexed one
        # Phase 2 (keywords), in the same worker: its stages and its drop-to-enriched time.
        assert 'dropsift_enrichment_stage_seconds_count{stage="enrich"} 1.0' in text
        assert "dropsift_drop_to_enriched_seconds_count 1.0" in text
    finally:
        worker.stop()
        compose.remove_prefix(own, redis_client, es)
