"""Two phases on real worker processes: searchable first (phase 1), enriched after (phase 2).

A worker serving only phase 1 runs for the whole module; a phase 2 worker is started only
when a test has set up what happens between the phases (a change, a deletion).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from elasticsearch import Elasticsearch

from search.index import ensure_index
from tests.support.index import SEEDS, reset_state, search_ids
from tests.support.procs import WorkerProcess
from tests.support.waiting import wait_for, wait_terminal
from worker import compose
from worker.enqueue import submit_many
from worker.pipeline.ledger import Entry, Ledger
from worker.settings import Settings

pytestmark = pytest.mark.integration

SEED = SEEDS / "003_0fcbdef7ffe9cfd8.txt"
OTHER_NEWS = """Chancellor visits Lisbon

Chancellor Olaf Scholz met Prime Minister Luis Montenegro in Lisbon on Tuesday to discuss
the European wind power programme. Scholz praised the Portuguese grid operators.

"Lisbon has shown what a coastal grid can carry," Olaf Scholz told reporters after the
meeting, while Luis Montenegro said the programme would double offshore capacity by 2030.

The two leaders also spoke about rail links between Madrid and Lisbon, which Montenegro
called the missing piece of the Iberian network.
"""


@pytest.fixture(scope="module")
def phased(
    settings: Settings, service_env: dict[str, str], redis_client: redis.Redis, es: Elasticsearch
) -> Iterator[tuple[Settings, dict[str, str]]]:
    """Settings and environment of this module's own prefix: its own queues and index."""
    prefix = f"dropsift-phases-{uuid.uuid4().hex[:6]}"
    own = settings.model_copy(
        update={
            "index_prefix": prefix,
            "inbox": settings.state_dir / "phases-inbox",
            "stable_seconds": 0.1,
        }
    )
    own.inbox.mkdir(parents=True, exist_ok=True)
    env = {**service_env, "DROPSIFT_INDEX_PREFIX": prefix, "DROPSIFT_INBOX": str(own.inbox)}
    ensure_index(es, own.alias)
    yield own, env
    compose.remove_prefix(own, redis_client, es)
    shutil.rmtree(own.inbox, ignore_errors=True)


@pytest.fixture(scope="module")
def phase1_worker(
    phased: tuple[Settings, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    proc = WorkerProcess(
        phased[1], tmp_path_factory.mktemp("phase1") / "worker.log", concurrency=1, phase="1"
    )
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def phase2_worker(
    phased: tuple[Settings, dict[str, str]], tmp_path: Path
) -> Iterator[Callable[[], WorkerProcess]]:
    """Starts a worker of phase 2 only, when the test says so; stopped at the end."""
    started: list[WorkerProcess] = []

    def start() -> WorkerProcess:
        proc = WorkerProcess(phased[1], tmp_path / "phase2.log", concurrency=1, phase="2")
        proc.start()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def own(
    phased: tuple[Settings, dict[str, str]],
    phase1_worker: WorkerProcess,
    redis_client: redis.Redis,
    es: Elasticsearch,
) -> Settings:
    reset_state(phased[0], redis_client, es)
    return phased[0]


def _drop(settings: Settings, name: str, text: str) -> Path:
    path = settings.inbox / name
    path.write_text(text)
    return path


def _submit(settings: Settings, ledger: Ledger, *paths: Path) -> dict[str, Entry]:
    _, failed = submit_many(list(paths), ledger, compose.publisher(settings).process)
    assert not failed
    return wait_terminal(ledger, list(paths), timeout=120)


def _doc(es: Elasticsearch, settings: Settings, doc_id: str) -> dict[str, Any]:
    return es.get(index=settings.alias, id=doc_id)["_source"]  # type: ignore[no-any-return]


def _enriched(ledger: Ledger, path: Path) -> Entry | None:
    entry = ledger.get(str(path))
    return entry if entry is not None and entry.enrichment == "enriched" else None


def test_a_document_is_searchable_before_it_is_enriched_and_enriched_afterwards(
    own: Settings,
    es: Elasticsearch,
    redis_client: redis.Redis,
    phase2_worker: Callable[[], WorkerProcess],
) -> None:
    ledger = compose.ledger(own, redis_client)
    path = _drop(own, "talks.txt", SEED.read_text())
    entry = _submit(own, ledger, path)[str(path)]
    assert entry.state == "indexed" and entry.enrichment == "pending"

    # No phase 2 worker yet: searchable, with its language, but without entities.
    assert entry.doc_id in search_ids(es, own.alias, "Istanbul")
    before = _doc(es, own, entry.doc_id)
    assert before["enriched"] is False and before["language"] == "en"
    assert before["people"] == [] and before["keywords"] == []

    phase2_worker()
    done = wait_for(lambda: _enriched(ledger, path), 120, what="phase 2 to enrich the file")
    assert done.enriched_at > 0
    after = _doc(es, own, entry.doc_id)
    assert after["enriched"] is True and after["enriched_at"]
    assert "Hakan Fidan" in after["people"] and after["keywords"]
    assert after["story_id"] == entry.doc_id  # the first of its story
    assert after["sources"] == before["sources"] and after["body"] == before["body"]


def test_a_file_changed_between_the_phases_gets_the_entities_of_its_new_text_only(
    own: Settings,
    es: Elasticsearch,
    redis_client: redis.Redis,
    phase2_worker: Callable[[], WorkerProcess],
) -> None:
    ledger = compose.ledger(own, redis_client)
    path = _drop(own, "page.txt", SEED.read_text())
    old = _submit(own, ledger, path)[str(path)]
    path.write_text(OTHER_NEWS)
    new = _submit(own, ledger, path)[str(path)]
    assert new.state == "indexed" and new.doc_id != old.doc_id
    assert not es.exists(index=own.alias, id=old.doc_id)  # its only source moved on

    phase2_worker()
    wait_for(lambda: _enriched(ledger, path), 120, what="phase 2 of the new version")
    es.indices.refresh(index=own.alias)
    # The old version's phase 2 found its document gone and created nothing.
    assert not es.exists(index=own.alias, id=old.doc_id)
    assert es.count(index=own.alias)["count"] == 1
    doc = _doc(es, own, new.doc_id)
    assert doc["enriched"] is True
    assert "Luis Montenegro" in doc["people"] and "Lisbon" in doc["places"]
    names = [*doc["people"], *doc["places"], *doc["organizations"]]
    assert all(name in OTHER_NEWS for name in names), names  # nothing of the old text


def test_a_file_deleted_between_the_phases_is_not_brought_back(
    own: Settings,
    es: Elasticsearch,
    redis_client: redis.Redis,
    phase2_worker: Callable[[], WorkerProcess],
) -> None:
    ledger = compose.ledger(own, redis_client)
    gone = _drop(own, "gone.txt", SEED.read_text())
    kept = _drop(own, "kept.txt", OTHER_NEWS)
    entries = _submit(own, ledger, gone, kept)
    gone.unlink()
    compose.publisher(own).forget([str(gone)])
    wait_for(
        lambda: (e := ledger.get(str(gone))) is not None and e.state == "deleted",
        60,
        what="the deletion to be processed",
    )
    assert not es.exists(index=own.alias, id=entries[str(gone)].doc_id)

    phase2_worker()
    # The kept file's phase 2 ran after the deleted one's: both messages were handled.
    wait_for(lambda: _enriched(ledger, kept), 120, what="phase 2 of the kept file")
    wait_for(
        lambda: not redis_client.llen(f"{own.index_prefix}-enrich"),
        60,
        what="the enrichment queue to drain",
    )
    es.indices.refresh(index=own.alias)
    assert not es.exists(index=own.alias, id=entries[str(gone)].doc_id)
    assert es.count(index=own.alias)["count"] == 1
    entry = ledger.get(str(gone))
    assert entry is not None and entry.state == "deleted" and entry.enrichment != "enriched"


def test_a_backlog_of_phase_2_does_not_hold_back_phase_1_on_a_worker_of_both(
    own: Settings,
    es: Elasticsearch,
    redis_client: redis.Redis,
    phased: tuple[Settings, dict[str, str]],
    phase1_worker: WorkerProcess,
    tmp_path: Path,
) -> None:
    ledger = compose.ledger(own, redis_client)
    paragraphs = [p for p in SEED.read_text().split("\n\n") if len(p) > 80]
    backlog = []
    for i in range(40):
        text = "\n\n".join(paragraphs[(i + k) % len(paragraphs)] for k in range(3))
        body = f"Report {i} on the talks\n\n{text}\n\nFiled as item {i} of the backlog."
        backlog.append(_drop(own, f"backlog-{i:02}.txt", body))
    # One task each: forty phase 2 messages wait, as no phase 2 worker runs yet.
    for path in backlog:
        _submit(own, ledger, path)
    queue = f"{own.index_prefix}-enrich"
    assert redis_client.llen(queue) == 40

    phase1_worker.stop()  # from here on, one worker serves both queues
    fresh = [_drop(own, f"fresh-{i}.txt", OTHER_NEWS + f"\nUpdate {i}.\n") for i in range(5)]
    for path in fresh:  # five phase 1 tasks queued after the backlog
        _submit_only(own, ledger, path)
    both = WorkerProcess(phased[1], tmp_path / "both.log", concurrency=1, phase="all")
    both.start()
    try:
        wait_terminal(ledger, fresh, timeout=120)
        # Phase 1 did not wait for the backlog to be worked through (one queue for both
        # would have served the forty first): at most a message or two of it were taken.
        assert redis_client.llen(queue) >= 40 - 2
    finally:
        both.stop()
        phase1_worker.start()


def _submit_only(settings: Settings, ledger: Ledger, path: Path) -> None:
    _, failed = submit_many([path], ledger, compose.publisher(settings).process)
    assert not failed
