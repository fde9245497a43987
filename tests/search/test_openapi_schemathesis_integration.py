"""Property-based calls against the live API (uvicorn on a local port): no 5xx, and every
status and body it answers is the one its OpenAPI schema documents."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from elasticsearch import Elasticsearch
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from bench.serve import in_thread
from search.api import create_app
from search.index import drop_all
from tests.search.support import index_documents
from worker.settings import Settings

pytestmark = pytest.mark.integration

DOCS = [
    {
        "doc_id": "a" * 64,
        "title": "Peace talks resume in Istanbul",
        "body": "Delegations held peace talks in Istanbul on Monday.",
        "published": "2025-05-16T09:00:00Z",
        "people": ["Volodymyr Zelenskyy"],
        "story_id": "s1",
    },
    {
        "doc_id": "b" * 64,
        "title": "A new hospital opens",
        "body": "The hospital opened its doors to the first patients.",
        "published": "2025-06-02T09:00:00Z",
        "story_id": "s1",
    },
]


@pytest.fixture(scope="module")
def live_url(settings: Settings, es: Elasticsearch) -> Iterator[str]:
    alias = f"{settings.alias}-schema"
    index_documents(es, alias, DOCS)
    with in_thread(create_app(es, alias, max_per_page=50)) as url:
        yield url
    drop_all(es, alias)


@pytest.fixture(scope="module")
def api_schema(live_url: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{live_url}/openapi.json")


CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def test_api_answers_only_what_its_schema_documents(api_schema: schemathesis.BaseSchema) -> None:
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/search", "/api/autocomplete"}
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @hypothesis_settings(
                max_examples=40,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def call(case: schemathesis.Case) -> None:
                case.call_and_validate(checks=CHECKS)

            try:
                call()
            except Unsatisfiable:
                # No parameters to get wrong (/healthz): nothing negative to send.
                assert mode is GenerationMode.NEGATIVE, operation.path
            except Exception as exc:  # every operation is tried; all failures are reported
                where = f"{operation.method.upper()} {operation.path} ({mode})"
                failures.append(f"{where}: {exc!s:.1500}")
    assert not failures, "\n\n".join(failures)
