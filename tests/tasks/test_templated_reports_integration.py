"""Templated reports from one site, through the pipeline function on the real Redis and index."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import redis
from elasticsearch import Elasticsearch

from tasks.boilerplate_memory import REASON
from worker.pipeline.ledger import Ledger
from worker.settings import Settings

pytestmark = pytest.mark.integration

FOOTER = "Figures supplied by the Example Exchange data service."


def report(n: int, rng: random.Random) -> str:
    """A market note that differs from its siblings only in its figures."""
    return (
        f"The index closed at {rng.uniform(3500, 4500):.2f} points on day {n}, "
        f"with {rng.randint(900, 1500)} shares traded.\n"
    )


@pytest.fixture
def run(
    settings: Settings,
    redis_client: redis.Redis,
    es: Elasticsearch,
    ledger: Ledger,
    clean_state: None,
) -> Any:
    """Writes one report file into the site's folder and puts it through process_file."""
    from worker.compose import pipeline_context
    from worker.pipeline.batch import process_file

    ctx = pipeline_context(settings, client=redis_client, es=es)
    folder = settings.inbox / "markets"
    folder.mkdir(parents=True)

    def _run(name: str, text: str) -> tuple[Path, str, dict[str, Any] | None]:
        path = folder / name
        path.write_text(text)
        state = process_file(str(path), ctx)
        entry = ledger.get(str(path))
        doc = None
        if entry is not None and entry.doc_id:
            doc = es.get(index=settings.alias, id=entry.doc_id)["_source"]
        return path, state, doc

    return _run


def test_sixty_reports_differing_only_in_figures_are_sixty_documents(
    run: Any, settings: Settings, es: Elasticsearch
) -> None:
    rng = random.Random(9)
    results = [run(f"report-{n:02}.txt", report(n, rng)) for n in range(1, 61)]

    assert [state for _, state, _ in results] == ["indexed"] * 60
    assert len({doc["doc_id"] for _, _, doc in results}) == 60
    for path, _, doc in results:
        assert doc["body"] == path.read_text().strip()
        assert REASON not in doc["cleaning"]["removed"]
    es.indices.refresh(index=settings.alias)
    assert es.count(index=settings.alias)["count"] == 60


def test_a_footer_on_templated_reports_is_still_learned_and_removed(run: Any) -> None:
    rng = random.Random(11)
    results = [run(f"report-{n:02}.txt", f"{report(n, rng)}\n{FOOTER}\n") for n in range(1, 13)]

    assert [state for _, state, _ in results] == ["indexed"] * 12
    docs = [doc for _, _, doc in results]
    # Kept until seen in DROPSIFT_BOILERPLATE_MIN_DOCS (5) of the site's documents, then gone;
    # the figures line of every report stays.
    assert [FOOTER in d["body"] for d in docs] == [True] * 4 + [False] * 8
    assert all(d["body"].startswith("The index closed at ") for d in docs)
    assert all(d["cleaning"]["removed"][REASON] == [FOOTER] for d in docs[4:])
    assert len({d["doc_id"] for d in docs}) == 12
