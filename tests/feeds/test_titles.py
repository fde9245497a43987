"""Titles without the site's name: pure rules, then per-site learning on the real Redis."""

from __future__ import annotations

import uuid

import pytest
import redis

from tasks.document import Document
from tasks.title_memory import SiteTitles
from tasks.titles import clean_title, headline, names_site, site_names, strip_site
from worker.settings import Settings


@pytest.mark.parametrize(
    ("title", "site", "site_name", "expected"),
    [
        ("Nelson's OT goal lifts Isles - Times Union", "timesunion.com", "Times Union", None),
        ("The Future of Banking Is … You're Broke | WIRED", "wired.com", "Wired", None),
        ("MacBook sale at Amazon from $700, AirPods, more - 9to5Mac", "9to5mac.com", None, None),
        ("Why you can't trust the White House - CNNPolitics", "cnn.com", "CNN", None),
        ("Trade War Keeps World Guessing - The New York Times", "nytimes.com", None, None),
        ("Hong Kong chaos: troops | World | News | Express.co.uk", "express.co.uk", None, None),
    ],
)
def test_the_sites_name_is_taken_off(
    title: str, site: str, site_name: str | None, expected: str | None
) -> None:
    names = [*site_names(site, site_name), "The New York Times"]
    cleaned = strip_site(title, names, learned=["world", "news"])
    head = title.split(" - ")[0].split(" | ")[0]
    assert cleaned == (expected or head)


def test_a_headline_that_only_looks_like_a_name_stays() -> None:
    # A prefix goes only when it is the name itself.
    assert strip_site("CNN's report - Markets rally", ["cnn.com", "cnn"]) == (
        "CNN's report - Markets rally"
    )
    # Hyphens inside words are no separators.
    assert strip_site("NBC 5 Dallas-Fort Worth news", ["NBC 5 Dallas-Fort Worth"]) == (
        "NBC 5 Dallas-Fort Worth news"
    )
    assert not names_site("Market", ["cnn"])


def test_a_title_is_never_stripped_to_nothing() -> None:
    assert strip_site("WIRED", ["Wired"]) == "WIRED"
    assert strip_site("Quanta Magazine - Quanta Magazine", ["Quanta Magazine"]) == (
        "Quanta Magazine"
    )
    assert strip_site(" | WIRED", ["Wired"]) == "| WIRED"


def test_the_pages_headline_is_preferred_to_its_title_tag() -> None:
    hints = {
        "page_title": "Trump Impeachment Inquiry: Working against the Clock | National Review",
        "og_title": "The Impeachment Clock | National Review",
        "h1": "The Impeachment Clock",
        "site_name": "National Review",
    }
    assert clean_title(hints["page_title"], hints, "nationalreview.com") == (
        "The Impeachment Clock"
    )
    # Not the <title>: the item's own title stands.
    assert headline("An editor's title", hints) == "An editor's title"
    # An <h1> that is not the headline ("Games") is passed over.
    games = {"page_title": "Daily Deals: Black Friday - IGN", "h1": "Games"}
    assert headline(games["page_title"], games) == games["page_title"]


@pytest.fixture
def titles(settings: Settings, redis_client: redis.Redis) -> SiteTitles:
    return SiteTitles(redis_client, f"{settings.key_prefix}{uuid.uuid4().hex[:8]}:")


@pytest.mark.integration
def test_a_sites_shared_affix_is_learned_and_taken_off(titles: SiteTitles) -> None:
    site = "sfgate.example"
    docs = [
        Document(source=f"s{i}", text="", title=f"Story number {i} - Bay Area Daily", site=site)
        for i in range(5)
    ]
    cleaned = [titles.apply(doc) for doc in docs]
    # The first two are not enough to tell; from the third on the affix is the site's.
    assert [d.title for d in cleaned] == [
        "Story number 0 - Bay Area Daily",
        "Story number 1 - Bay Area Daily",
        "Story number 2",
        "Story number 3",
        "Story number 4",
    ]
    assert cleaned[3].title_original == "Story number 3 - Bay Area Daily"
    assert cleaned[0].title_original is None
    # Another site's titles learn nothing from this one.
    other = Document(source="o", text="", title="A story - Bay Area Daily", site="other.example")
    assert titles.apply(other).title == "A story - Bay Area Daily"
    # A segment most titles do not share is no affix.
    varied = [
        titles.apply(
            Document(source=f"v{i}", text="", title=f"Part {i} - Topic {i}", site="v.example")
        )
        for i in range(6)
    ]
    assert [d.title for d in varied] == [f"Part {i} - Topic {i}" for i in range(6)]
