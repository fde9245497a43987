"""Unit tests for Settings validation and environment reading."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from worker.settings import Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("DROPSIFT_"):
            monkeypatch.delenv(name)


def test_defaults_are_valid() -> None:
    settings = Settings()
    assert settings.visibility_timeout > settings.task_time_limit
    assert settings.alias == "dropsift-docs"
    assert settings.key_prefix == "dropsift:"


@pytest.mark.parametrize(("visibility", "limit"), [(300, 300), (100, 300)])
def test_visibility_timeout_must_outlast_task(visibility: int, limit: int) -> None:
    with pytest.raises(ValidationError) as info:
        Settings(visibility_timeout=visibility, task_time_limit=limit)
    message = str(info.value)
    assert "DROPSIFT_VISIBILITY_TIMEOUT" in message
    assert "DROPSIFT_TASK_TIME_LIMIT" in message


def test_visibility_timeout_just_longer_is_fine() -> None:
    settings = Settings(visibility_timeout=301, task_time_limit=300)
    assert settings.visibility_timeout == 301


@pytest.mark.parametrize("auth", [{"es_user": "elastic"}, {"es_password": "secret"}])
def test_api_key_with_user_or_password_rejected(auth: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="DROPSIFT_ES_API_KEY"):
        Settings(es_api_key="abc", **auth)  # type: ignore[arg-type]


def test_api_key_alone_is_fine() -> None:
    assert Settings(es_api_key="abc").es_api_key == "abc"


@pytest.mark.parametrize("prefix", ["DropSift", "drop sift", "-drop", "_drop", "", "drop.sift"])
def test_bad_index_prefix_rejected(prefix: str) -> None:
    with pytest.raises(ValidationError):
        Settings(index_prefix=prefix)


@pytest.mark.parametrize("prefix", ["drop", "test-1", "a_b", "9x"])
def test_good_index_prefix(prefix: str) -> None:
    assert Settings(index_prefix=prefix).alias == f"{prefix}-docs"


def test_reads_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DROPSIFT_INDEX_PREFIX", "stage")
    monkeypatch.setenv("DROPSIFT_MAX_FILE_BYTES", "1234")
    monkeypatch.setenv("DROPSIFT_TASK_TIME_LIMIT", "60")
    monkeypatch.setenv("DROPSIFT_VISIBILITY_TIMEOUT", "120")
    monkeypatch.setenv("DROPSIFT_ES_URL", "https://es.example:9200")
    settings = Settings()
    assert settings.index_prefix == "stage"
    assert settings.max_file_bytes == 1234
    assert settings.task_time_limit == 60
    assert settings.visibility_timeout == 120
    assert settings.es_url == "https://es.example:9200"


def test_env_validation_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DROPSIFT_VISIBILITY_TIMEOUT", "10")
    with pytest.raises(ValidationError, match="DROPSIFT_VISIBILITY_TIMEOUT"):
        Settings()


def test_env_bad_prefix_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DROPSIFT_INDEX_PREFIX", "Has Spaces")
    with pytest.raises(ValidationError):
        Settings()


@pytest.mark.parametrize("prefix", ["news-enrich", "news-events", "news-events-x", "news-docs-v2"])
def test_a_prefix_that_would_share_a_shorter_prefixs_names_is_refused(prefix: str) -> None:
    # "news-enrich" is prefix news's phase 2 queue; the others match its index patterns.
    with pytest.raises(ValidationError, match="DROPSIFT_INDEX_PREFIX"):
        Settings(index_prefix=prefix)


@pytest.mark.parametrize("prefix", ["news", "news-docs", "enrichment", "news-eventsx", "a-b"])
def test_prefixes_that_only_look_alike_are_fine(prefix: str) -> None:
    assert Settings(index_prefix=prefix).index_prefix == prefix
