"""One settings object per process, read from DROPSIFT_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from worker.es_java import ES_DEFAULT_VERSION

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every knob dropsift reads; the README's configuration table lists them."""

    model_config = SettingsConfigDict(env_prefix="DROPSIFT_", extra="ignore")

    # Services
    redis_url: str = "redis://127.0.0.1:6379/0"
    es_url: str = "http://127.0.0.1:9200"
    es_user: str | None = None
    es_password: str | None = None
    es_api_key: str | None = None
    es_ca_file: Path | None = None
    index_prefix: str = Field(default="dropsift", pattern=r"^[a-z0-9][a-z0-9_-]*$")
    """Names the alias `<prefix>-docs`, its versioned indices and every Redis key."""
    events_retention_days: int = Field(default=30, ge=1)
    """Days of outcome records kept (daily indices `<prefix>-events-YYYY.MM.DD`)."""

    # Kibana (`dropsift kibana install`)
    kibana_url: str = "http://127.0.0.1:5601"
    kibana_space: str | None = Field(default=None, pattern=r"^[a-z0-9_-]+$")
    kibana_user: str | None = None
    kibana_password: str | None = None
    kibana_api_key: str | None = None
    kibana_ca_file: Path | None = None

    # Files
    state_dir: Path = PROJECT_ROOT / ".dropsift"
    inbox: Path = PROJECT_ROOT / ".dropsift" / "inbox"
    max_file_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    json_fields: dict[str, list[str]] = Field(default_factory=dict)
    """Field names of JSON items, as JSON: {"body": ["story"], "published": ["ts"]}."""
    stable_seconds: float = Field(default=0.5, ge=0)
    """A file is queued only once its size and mtime have not changed for this long."""
    rescan_seconds: float = Field(default=30.0, gt=0)
    """Period of the reconciliation scan that catches events the watcher missed."""

    # Enrichment
    enrichers: list[str] = Field(
        default_factory=lambda: ["language", "stats", "summary", "keywords", "entities"]
    )
    """Enrichers to run, in order: built-in names or "package.module:ClassName" (JSON list)."""

    # Near-duplicates
    neardup_threshold: float = Field(default=0.8, gt=0, le=1)
    """Estimated Jaccard (word 5-grams) at which a document joins another's cluster."""
    neardup_horizon_days: int = Field(default=90, ge=1)
    """Signatures older than this are forgotten, so Redis memory stays bounded."""

    # Cleaning
    boilerplate_min_docs: int = Field(default=5, ge=2)
    """A line is a source's boilerplate once seen in this many of its documents..."""
    boilerplate_min_share: float = Field(default=0.5, gt=0, le=1)
    """...and in at least this share of them."""

    # Worker
    batch_size: int = Field(default=16, ge=1, le=1000)
    """Files per task: a backlog is processed in batches (one bulk request, one model pass)."""
    max_attempts: int = Field(default=3, ge=1)
    """Deliveries of one file before it is quarantined as poison."""
    task_time_limit: int = Field(default=300, gt=0)
    visibility_timeout: int = Field(default=3600, gt=0)
    worker_concurrency: int = Field(default=2, ge=1)
    worker_metrics_port: int = Field(default=9464, ge=0, le=65535)
    """Where a worker serves its Prometheus metrics (0: not at all)."""
    bulk_max_retries: int = Field(default=5, ge=0, le=100)
    bulk_backoff_seconds: float = Field(default=0.5, gt=0)
    bulk_backoff_max_seconds: float = Field(default=30.0, gt=0)

    # Local stack
    es_version: str = ES_DEFAULT_VERSION
    """Set explicitly, a requirement; left alone, the 8.19 fallback runs without Java 21+."""
    es_heap: str = "1g"
    es_java_home: Path | None = None
    """The Java for the local Elasticsearch; unset, the first fit of JAVA_HOME, the `java`
    on PATH and the JDKs under /usr/lib/jvm."""
    es_run_user: str = "dropsift"
    """Unprivileged user that runs Elasticsearch when dropsift is started as root."""

    # API
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    max_per_page: int = Field(default=100, ge=1, le=10_000)
    api_key: SecretStr | None = None
    """Keys that may push documents (comma-separated, for rotation); none: pushing is off."""
    api_key_reads: bool = False
    """Reads of /api/* need a key too."""

    log_format: str = Field(default="auto", pattern="^(auto|json|console)$")
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        # A task still running when the visibility timeout expires is delivered a second
        # time while the first copy runs: the timeout must outlast any task.
        if self.visibility_timeout <= self.task_time_limit:
            raise ValueError(
                f"DROPSIFT_VISIBILITY_TIMEOUT ({self.visibility_timeout}s) must be longer than "
                f"DROPSIFT_TASK_TIME_LIMIT ({self.task_time_limit}s)"
            )
        from tasks.formats.fields import field_map

        field_map(self.json_fields)  # unknown field names fail here, not in every task
        from tasks.enrichers import resolve

        for name in self.enrichers:  # so does an unknown enricher
            resolve(name)
        # Another prefix's names are built from the same parts: "<p>-enrich" is prefix p's
        # phase 2 queue, and "<p>-docs-v…" and "<p>-events-…" match p's index patterns.
        named = self.index_prefix + "-"
        if self.index_prefix.endswith("-enrich") or "-docs-v" in named or "-events-" in named:
            raise ValueError(
                f"DROPSIFT_INDEX_PREFIX {self.index_prefix!r} would share names with a shorter "
                "prefix's (its enrichment queue or its indices): it may not end in -enrich or "
                "-events, nor hold -docs-v or -events-"
            )
        if self.api_key_reads and not self.api_keys:
            raise ValueError("DROPSIFT_API_KEY_READS needs DROPSIFT_API_KEY")
        if self.es_api_key and (self.es_user or self.es_password):
            raise ValueError("set DROPSIFT_ES_API_KEY or DROPSIFT_ES_USER/PASSWORD, not both")
        if self.kibana_api_key and (self.kibana_user or self.kibana_password):
            raise ValueError(
                "set DROPSIFT_KIBANA_API_KEY or DROPSIFT_KIBANA_USER/PASSWORD, not both"
            )
        return self

    @property
    def api_keys(self) -> tuple[str, ...]:
        raw = self.api_key.get_secret_value() if self.api_key else ""
        return tuple(key.strip() for key in raw.split(",") if key.strip())

    @property
    def alias(self) -> str:
        return f"{self.index_prefix}-docs"

    @property
    def key_prefix(self) -> str:
        return f"{self.index_prefix}:"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
