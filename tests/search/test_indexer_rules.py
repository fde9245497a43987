"""Unit tests for the pure parts of bulk indexing: chunking, retry backoff, what never fits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from search.errors import never_fits
from search.indexer import RetryPolicy, _chunks

Doc = tuple[str, dict[str, Any]]


def doc(i: int, body: str = "x") -> Doc:
    return (f"id{i}", {"doc_id": f"id{i}", "body": body})


def size(d: Doc) -> int:
    return len(json.dumps(d[1]))


def test_chunks_by_count() -> None:
    docs = [doc(i) for i in range(7)]
    chunks = list(_chunks(docs, max_docs=3, max_bytes=10**9))
    assert [len(c) for c in chunks] == [3, 3, 1]
    assert [d for c in chunks for d in c] == docs


def test_chunks_exact_multiple_has_no_empty_tail() -> None:
    docs = [doc(i) for i in range(6)]
    chunks = list(_chunks(docs, max_docs=3, max_bytes=10**9))
    assert [len(c) for c in chunks] == [3, 3]


def test_chunks_by_bytes() -> None:
    docs = [doc(i, "y" * 100) for i in range(5)]
    one = size(docs[0])
    chunks = list(_chunks(docs, max_docs=100, max_bytes=2 * one))
    assert [len(c) for c in chunks] == [2, 2, 1]
    assert [d for c in chunks for d in c] == docs
    for chunk in chunks:
        assert sum(size(d) for d in chunk) <= 2 * one


def test_chunk_bytes_limit_is_inclusive() -> None:
    docs = [doc(i, "y" * 50) for i in range(4)]
    total = sum(size(d) for d in docs)
    assert list(_chunks(docs, max_docs=100, max_bytes=total)) == [docs]
    assert len(list(_chunks(docs, max_docs=100, max_bytes=total - 1))) == 2


def test_oversized_doc_is_yielded_alone() -> None:
    small_a, big, small_b = doc(1), doc(2, "z" * 5000), doc(3)
    chunks = list(_chunks([small_a, big, small_b], max_docs=100, max_bytes=1000))
    assert chunks == [[small_a], [big], [small_b]]


def test_oversized_first_doc() -> None:
    big, small = doc(1, "z" * 5000), doc(2)
    assert list(_chunks([big, small], max_docs=100, max_bytes=1000)) == [[big], [small]]


def test_no_docs_no_chunks() -> None:
    assert list(_chunks([], max_docs=10, max_bytes=1000)) == []


def test_chunks_never_empty_mixed() -> None:
    docs = [doc(i, "q" * (i * 37 % 400)) for i in range(50)]
    chunks = list(_chunks(docs, max_docs=4, max_bytes=600))
    assert all(chunks)
    assert all(len(c) <= 4 for c in chunks)
    assert [d for c in chunks for d in c] == docs


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 5, 6, 7, 8])
def test_delay_within_bounds(attempt: int) -> None:
    policy = RetryPolicy(backoff=0.5, backoff_max=30.0)
    cap = min(30.0, 0.5 * 2 ** (attempt - 1))
    draws = [policy.delay(attempt) for _ in range(2000)]
    assert all(0 <= d <= cap for d in draws)
    # Full jitter spreads over the whole range, not just near zero.
    assert max(draws) > 0.8 * cap
    assert min(draws) < 0.2 * cap


def test_delay_capped_at_backoff_max() -> None:
    policy = RetryPolicy(backoff=1.0, backoff_max=4.0)
    draws = [policy.delay(20) for _ in range(2000)]
    assert all(0 <= d <= 4.0 for d in draws)
    assert max(draws) > 3.0


def test_delay_grows_with_attempt() -> None:
    policy = RetryPolicy(backoff=0.5, backoff_max=30.0)
    assert max(policy.delay(1) for _ in range(500)) <= 0.5
    assert max(policy.delay(4) for _ in range(500)) > 0.5


def _pressure(operation: int, limit: int, stage: str = "primary") -> dict[str, str]:
    return {
        "type": "es_rejected_execution_exception",
        "reason": f"rejected execution of {stage} operation [coordinating_and_primary_bytes=0, "
        f"replica_bytes=0, all_bytes=0, {stage}_operation_bytes={operation}, "
        f"max_{stage}_bytes={limit}]",
    }


def test_an_operation_over_the_indexing_limit_on_its_own_never_fits() -> None:
    assert never_fits(_pressure(126291016, 107374182))
    assert never_fits(_pressure(200, 100, "coordinating"))


def test_a_busy_node_or_another_error_is_worth_another_try() -> None:
    assert not never_fits(_pressure(5000, 107374182))  # others' bytes filled the node
    assert not never_fits({"type": "es_rejected_execution_exception", "reason": "queue full"})
    assert not never_fits(None)
