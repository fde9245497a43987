"""Same-story matching on entities (pure: no services)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.clean import clean
from tasks.enrich import enrich_batch
from tasks.extract import read_file
from tasks.story import _best, _close_in_time, match

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@pytest.fixture(scope="module")
def seeds() -> list[dict[str, object]]:
    docs = [clean(read_file(p, 10**7).documents[0]) for p in sorted(SEEDS.glob("*.txt"))]
    return [
        {
            "people": d.people,
            "places": d.places,
            "organizations": d.organizations,
            "published": d.published,
            "published_from": d.published_from,
            "story_id": d.doc_id,
        }
        for d in enrich_batch(docs)
    ]


def test_the_two_seeds_are_the_same_story(seeds: list[dict[str, object]]) -> None:
    found = match(seeds[0], seeds[1])
    assert found.shared_people >= 4  # Umerov, Putin, Medinsky, Fidan
    assert found.same_story


def test_documents_naming_different_people_are_not() -> None:
    a = {"people": ["Rustem Umerov", "Hakan Fidan"], "places": ["Istanbul"]}
    b = {"people": ["Susanna Reid", "Dharmendra Pradhan"], "places": ["Istanbul"]}
    assert not match(a, b).same_story
    one_person = {"people": ["Rustem Umerov"], "places": ["Istanbul"]}
    assert not match(a, one_person).same_story  # one shared name is not enough


def test_dates_from_the_documents_must_be_close_but_fallbacks_are_not_held_against_them() -> None:
    june = {"published": "2025-06-02T21:29:00", "published_from": "text"}
    july = {"published": "2025-07-20T09:00:00", "published_from": "text"}
    ingested = {"published": "2026-11-22T04:00:00", "published_from": "ingested"}
    assert _close_in_time(june, {**june, "published": "2025-06-04T08:00:00"})
    assert not _close_in_time(june, july)
    assert _close_in_time(june, ingested)


def test_the_best_matching_candidate_gives_its_story() -> None:
    doc = {"people": ["A B", "C D", "E F"], "places": ["X"], "published_from": "ingested"}
    weak = {"people": ["A B", "C D"], "places": ["Y", "Z", "W"], "story_id": "weak"}
    strong = {"people": ["A B", "C D", "E F"], "places": ["X"], "story_id": "strong"}
    unrelated = {"people": ["Q R"], "story_id": "other"}
    assert _best(doc, [weak, unrelated, strong]) == "strong"
    assert _best(doc, [unrelated]) is None
