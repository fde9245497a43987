"""Build an Elasticsearch client from plain connection parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch


def make_client(
    url: str,
    *,
    user: str | None = None,
    password: str | None = None,
    api_key: str | None = None,
    ca_file: Path | None = None,
    request_timeout: float = 30.0,
) -> Elasticsearch:
    """A client that leaves retries to the callers, which know what is transient."""
    options: dict[str, Any] = {}
    if user:
        options["basic_auth"] = (user, password or "")
    if api_key:
        options["api_key"] = api_key
    if ca_file:
        options["ca_certs"] = str(ca_file)
    return Elasticsearch(
        url, request_timeout=request_timeout, max_retries=0, retry_on_timeout=False, **options
    )
