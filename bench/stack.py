"""What the benches that run on the local stack share: a fresh prefix, and its removal."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from worker import compose
from worker.settings import Settings


def add_service_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--es-url", default="http://127.0.0.1:9200")


def bench_settings(args: argparse.Namespace, name: str, **extra: Any) -> Settings:
    """Settings on a prefix and inbox of the bench's own, removed by `remove`."""
    workdir = Path(tempfile.mkdtemp(prefix="dropsift-bench-"))
    settings = Settings(
        redis_url=args.redis_url,
        es_url=args.es_url,
        index_prefix=f"bench-{name}-{uuid.uuid4().hex[:6]}",
        state_dir=workdir,
        inbox=workdir / "inbox",
        **extra,
    )
    settings.inbox.mkdir()
    return settings


def stack_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a worker process on the bench's prefix."""
    return {
        **os.environ,
        "DROPSIFT_REDIS_URL": settings.redis_url,
        "DROPSIFT_ES_URL": settings.es_url,
        "DROPSIFT_INDEX_PREFIX": settings.index_prefix,
        "DROPSIFT_INBOX": str(settings.inbox),
        "DROPSIFT_STATE_DIR": str(settings.state_dir),
        "DROPSIFT_LOG_LEVEL": "WARNING",
        "DROPSIFT_LOG_FORMAT": "json",
        **extra,
    }


def remove(settings: Settings) -> None:
    """The bench's index, Redis keys and files."""
    compose.remove_prefix(settings)
    shutil.rmtree(settings.state_dir, ignore_errors=True)
