"""A pipeline whose phase 2 is cheap: phase 1 hands its documents on, phase 2 runs keywords."""

from __future__ import annotations

import dataclasses

import redis
from elasticsearch import Elasticsearch

from worker import compose
from worker.pipeline.context import Context, Send
from worker.settings import Settings


def keywords_later(
    settings: Settings, redis_client: redis.Redis, es: Elasticsearch, enrich_later: Send
) -> Context:
    """Phase 1 of language and stats that hands each batch's documents to `enrich_later`;
    phase 2 (when the test runs it) is keywords alone, no model."""
    ctx = compose.pipeline_context(settings, client=redis_client, es=es, enrich_later=enrich_later)
    ctx.config = dataclasses.replace(
        ctx.config, enrichers=("language", "stats"), late_enrichers=("keywords",)
    )
    return ctx
