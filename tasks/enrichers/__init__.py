"""Enrichers: language, stats, summary, keywords and entities, run as a configured list.

Each enricher has a `name` and a batch method `enrich(docs) -> docs`. `run_enrichers` runs a
list of them in order; a name is either a key of `ENRICHERS` or a dotted path
"package.module:ClassName" to a class that is built with no arguments, e.g.::

    # mypkg/sentiment.py
    class Sentiment:
        name = "sentiment"

        def enrich(self, docs: list[Document]) -> list[Document]:
            return [d.replace(keywords=[*d.keywords, "upbeat"]) for d in docs]

    run_enrichers(docs, ["language", "stats", "summary", "mypkg.sentiment:Sentiment"])

Leaving a name out switches that enricher off (no "entities": no spaCy model is loaded).
An enricher with `phase = 2` (entities, keywords) runs after the document is searchable,
from the enrichment queue (worker.pipeline.enrichment); the others run before it is indexed.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from functools import cache

from tasks.document import Document
from tasks.enrichers.base import Enricher
from tasks.enrichers.entities import EntitiesEnricher
from tasks.enrichers.keywords import KeywordsEnricher, YakeKeywordsEnricher
from tasks.enrichers.language import LanguageEnricher
from tasks.enrichers.stats import StatsEnricher
from tasks.enrichers.summary import SummaryEnricher

__all__ = [
    "DEFAULT_ENRICHERS",
    "ENRICHERS",
    "Enricher",
    "phase_of",
    "resolve",
    "run_enrichers",
    "split_phases",
]

ENRICHERS: dict[str, Enricher] = {
    e.name: e
    for e in (
        LanguageEnricher(),
        StatsEnricher(),
        SummaryEnricher(),
        KeywordsEnricher(),
        YakeKeywordsEnricher(),
        EntitiesEnricher(),
    )
}
# Language first: keywords and entities depend on it.
DEFAULT_ENRICHERS: tuple[str, ...] = ("language", "stats", "summary", "keywords", "entities")


@cache
def _from_dotted_path(path: str) -> Enricher:
    """Build the enricher class named by "package.module:ClassName" (once per process)."""
    module_name, _, class_name = path.partition(":")
    if not module_name or not class_name:
        raise ValueError(f"enricher {path!r}: expected a registered name or 'package.module:Class'")
    enricher = getattr(importlib.import_module(module_name), class_name)()
    if not isinstance(enricher, Enricher):
        raise TypeError(f"enricher {path!r} has no `name` and `enrich(docs)`")
    return enricher


def resolve(name: str) -> Enricher:
    """The enricher registered under `name`, or built from a dotted path."""
    if name in ENRICHERS:
        return ENRICHERS[name]
    if ":" in name:
        return _from_dotted_path(name)
    known = ", ".join(ENRICHERS)
    raise ValueError(f"unknown enricher {name!r} (known: {known}; or 'package.module:Class')")


def phase_of(name: str) -> int:
    """1: runs before the document is indexed; 2: afterwards, from the enrichment queue.

    An enricher says so with a `phase` attribute (entities and keywords: 2); without one it
    runs in phase 1, so a plug-in's fields are there from the first moment.
    """
    return 2 if getattr(resolve(name), "phase", 1) == 2 else 1


def split_phases(names: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The named enrichers of phase 1 and of phase 2, each in the configured order."""
    return (
        tuple(n for n in names if phase_of(n) == 1),
        tuple(n for n in names if phase_of(n) == 2),
    )


def run_enrichers(docs: Sequence[Document], names: Sequence[str]) -> list[Document]:
    """Run the named enrichers over the batch, in order."""
    # Resolve every name before running any, so a typo fails before minutes of work.
    enrichers = [resolve(name) for name in names]
    batch = list(docs)
    for enricher in enrichers:
        batch = enricher.enrich(batch)
    return batch
