"""Near-duplicate clusters and same-story links through the pipeline, on the real services."""

from __future__ import annotations

import random
import re
import shutil
from collections import defaultdict
from pathlib import Path

import pytest
import redis
from elasticsearch import Elasticsearch

from tests.support.index import SEEDS
from tests.support.procs import WorkerProcess
from tests.support.waiting import wait_terminal
from worker.compose import pipeline_context
from worker.enqueue import submit_many
from worker.pipeline.batch import process_file
from worker.pipeline.ledger import Ledger
from worker.settings import Settings

pytestmark = pytest.mark.integration


def test_a_near_copy_joins_the_cluster_and_another_outlet_joins_the_story(
    settings: Settings,
    redis_client: redis.Redis,
    es: Elasticsearch,
    clean_state: None,
    tmp_path: Path,
) -> None:
    ctx = pipeline_context(settings, client=redis_client, es=es)
    original = SEEDS / "003_0fcbdef7ffe9cfd8.txt"
    text = original.read_text()
    # What another scraper of the same page saved: a closing line of its own added.
    near = tmp_path / "near.txt"
    near.write_text(text + "\n\nThis story was updated with the mayor's statement.\n")
    other_outlet = SEEDS / "000_2fa40668a4e6c1c4.txt"

    ids = {}
    for name, path in (("original", original), ("near", near), ("other", other_outlet)):
        # Stories are matched among searchable documents: let a refresh pass, as it does
        # within a second between files that arrive apart.
        es.indices.refresh(index=settings.alias)
        assert process_file(str(path), ctx) == "indexed"
        entry = ctx.ledger.get(str(path))
        assert entry is not None
        ids[name] = entry.doc_id
    docs = {k: es.get(index=settings.alias, id=v)["_source"] for k, v in ids.items()}

    assert docs["original"]["canonical"] and docs["original"]["cluster_id"] == ids["original"]
    assert not docs["near"]["canonical"] and docs["near"]["cluster_id"] == ids["original"]
    assert docs["near"]["similarity"] >= 0.8
    assert docs["other"]["cluster_id"] == ids["other"]  # a different text: its own cluster
    story = docs["original"]["story_id"]
    assert docs["near"]["story_id"] == story and docs["other"]["story_id"] == story


def _variants(cluster: int) -> list[str]:
    """An article and three versions of it: an exact copy and two near-copies.

    Each cluster's article is seed 003's prose with every word given a suffix of its own, so
    articles of different clusters share no word while reading like news to the cleaner.
    """
    prose = [
        p for p in (SEEDS / "003_0fcbdef7ffe9cfd8.txt").read_text().split("\n\n") if len(p) > 80
    ]
    suffix = "abcdefghij"[cluster] * 2
    base = re.sub(r"[A-Za-z]+", lambda m: m.group(0) + suffix, "\n\n".join(prose))
    return [
        base,
        base,
        base + f"\n\nCorrection{suffix}: an earlier version misspelt a name.",
        "\n\n".join(base.split("\n\n")[:-1]),
    ]


def test_four_workers_racing_on_copies_make_exactly_one_canonical_per_cluster(
    running_worker: WorkerProcess,
    service_env: dict[str, str],
    es: Elasticsearch,
    settings: Settings,
    ledger: Ledger,
    send,
    tmp_path: Path,
) -> None:
    rng = random.Random(5)
    paths: dict[Path, int] = {}
    for cluster in range(10):
        for i, text in enumerate(_variants(cluster)):
            path = tmp_path / f"c{cluster}-v{i}.txt"
            path.write_text(text)
            paths[path] = cluster
    extra = [
        WorkerProcess(service_env, tmp_path / f"worker{i}.log", concurrency=1) for i in range(3)
    ]
    try:
        for worker in extra:
            worker.start()
        order = list(paths)
        rng.shuffle(order)
        _, failed = submit_many(order, ledger, send, batch_size=2)
        assert not failed
        entries = wait_terminal(ledger, order, timeout=180)
    finally:
        for worker in extra:
            worker.stop()
        shutil.rmtree(tmp_path, ignore_errors=True)

    assert {e.state for e in entries.values()} <= {"indexed", "duplicate"}
    es.indices.refresh(index=settings.alias)
    hits = es.search(index=settings.alias, size=100)["hits"]["hits"]
    by_cluster: dict[str, list[dict[str, object]]] = defaultdict(list)
    for hit in hits:
        by_cluster[str(hit["_source"]["cluster_id"])].append(hit["_source"])
    assert len(hits) == 30  # 40 files, 10 of them exact copies: no duplicate documents
    assert len(by_cluster) == 10  # every near-copy found its cluster
    for members in by_cluster.values():
        assert sum(bool(m["canonical"]) for m in members) == 1
        assert len({paths[Path(s)] for m in members for s in m["sources"]}) == 1  # type: ignore[attr-defined]
