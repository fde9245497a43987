"""What a batch needs: its settings and the boundaries it talks to, built by worker.compose."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from search.indexer import IndexSink
from tasks.boilerplate_memory import SourceBoilerplate
from tasks.dedupe import ContentRegistry
from tasks.enrichers.keywords import DocumentFrequencies
from tasks.neardup import NearDupIndex
from tasks.story import RecentStories
from tasks.title_memory import SiteTitles
from worker.pipeline.ledger import Ledger

Send = Callable[[list[str]], None]
"""Publishes one batch of paths as one task."""


@dataclass(frozen=True)
class PipelineConfig:
    """The settings a batch reads (worker.settings.Settings has them all)."""

    inbox: Path
    max_file_bytes: int
    json_fields: Mapping[str, Sequence[str]] = field(default_factory=dict)
    enrichers: Sequence[str] = ()
    """Phase 1's enrichers: run before the document is indexed."""
    late_enrichers: Sequence[str] = ()
    """Phase 2's (entities, keywords): they update the indexed document; none, no phase 2."""
    max_attempts: int = 3
    index_prefix: str = "dropsift"
    """Names the outcomes index (`<prefix>-events`) the batch's records go to."""
    worker: str = ""
    """Who processed it (host and process), recorded with each outcome."""
    lease_seconds: float = 300.0
    """How long a file stays leased to a task that died holding it: the task time limit."""


@dataclass
class Context:
    """The boundaries one worker process talks to; built once per process."""

    config: PipelineConfig
    ledger: Ledger
    sink: IndexSink
    contents: ContentRegistry
    boilerplate: SourceBoilerplate
    neardup: NearDupIndex
    stories: RecentStories
    frequencies: DocumentFrequencies
    """Document frequencies of the corpus, shared by the workers (keywords' TF-IDF)."""
    resend: Send | None = None
    """Sends files again as a task of their own (a deferred or split batch); None: inline."""
    titles: SiteTitles | None = None
    """Takes sites' names off titles (learned per site); None leaves titles as they come."""
    enrich_later: Send | None = None
    """Sends document ids to phase 2 (the enrichment queue); None: phase 2 runs inline."""
