"""Near-duplicate index against the real Redis (db 15, per-session key prefix), no mocks."""

from __future__ import annotations

import multiprocessing
import random
from collections import Counter
from itertools import combinations
from typing import Any

import pytest
import redis

from tasks.neardup import (
    DEFAULT_THRESHOLD,
    NearDup,
    NearDupIndex,
    band_hashes,
    doc_ref,
    estimate,
    jaccard,
    signature,
    text_signature,
)
from worker.settings import Settings

pytestmark = pytest.mark.integration

HORIZON = 3600


def story(seed: int, n: int = 400) -> list[str]:
    """n words from a made-up vocabulary: stories of different seeds share no 5-grams."""
    rng = random.Random(seed)
    return [
        "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 8))) for _ in range(n)
    ]


def near_copy(words: list[str], seed: int, changes: int = 3) -> str:
    """The story with a few words changed, as a light rewording would (J ≈ 0.93)."""
    rng = random.Random(seed)
    copy = list(words)
    for at in rng.sample(range(len(copy)), changes):
        copy[at] = f"edit{seed}x{at}".replace("0", "o")
    return " ".join(copy)


@pytest.fixture
def prefix(settings: Settings, clean_state: None) -> str:
    return f"{settings.key_prefix}nd-test:"


@pytest.fixture
def index(redis_client: redis.Redis, prefix: str) -> NearDupIndex:
    return NearDupIndex(redis_client, prefix, horizon_seconds=HORIZON)


def keys(client: redis.Redis, prefix: str) -> list[str]:
    return sorted(client.scan_iter(f"{prefix}*", count=1000))


def test_canonical_then_near_copy_joins_its_cluster(index: NearDupIndex) -> None:
    words = story(1)
    first = index.claim("doc-a", text_signature(" ".join(words)))
    assert first == NearDup(cluster_id="doc-a", canonical=True, similarity=None)
    second = index.claim("doc-b", text_signature(near_copy(words, 2)))
    assert second.cluster_id == "doc-a"
    assert not second.canonical
    assert second.similarity is not None and DEFAULT_THRESHOLD <= second.similarity < 1.0


def test_near_copy_of_a_near_copy_joins_the_same_cluster(index: NearDupIndex) -> None:
    """A third copy closest to the second still lands in the first's cluster."""
    words = story(3)
    index.claim("doc-a", text_signature(" ".join(words)))
    copy = near_copy(words, 4, changes=4)
    assert index.claim("doc-b", text_signature(copy)).cluster_id == "doc-a"
    third = index.claim("doc-c", text_signature(copy + " one more closing line of text"))
    assert third.cluster_id == "doc-a"
    assert not third.canonical


def test_unrelated_document_is_its_own_cluster(index: NearDupIndex) -> None:
    index.claim("doc-a", text_signature(" ".join(story(5))))
    other = index.claim("doc-z", text_signature(" ".join(story(6))))
    assert other == NearDup(cluster_id="doc-z", canonical=True, similarity=None)


def test_repeat_claim_is_idempotent(index: NearDupIndex) -> None:
    """Claiming again returns the stored answer, whatever arrived in between."""
    words = story(7)
    sig_a, sig_b = text_signature(" ".join(words)), text_signature(near_copy(words, 8))
    first_a = index.claim("doc-a", sig_a)
    first_b = index.claim("doc-b", sig_b)
    assert index.claim("doc-a", sig_a) == first_a
    assert index.claim("doc-b", sig_b) == first_b
    assert index.claim("doc-a", sig_a).canonical


def test_empty_text_is_canonical_and_not_stored(
    index: NearDupIndex, redis_client: redis.Redis, prefix: str
) -> None:
    assert index.claim("empty-1", text_signature("")).canonical
    assert index.claim("empty-2", text_signature("...")).canonical
    assert keys(redis_client, prefix) == []


def test_forget_removes_the_record_and_owned_bands(
    index: NearDupIndex, redis_client: redis.Redis, prefix: str
) -> None:
    words = story(9)
    sig = text_signature(" ".join(words))
    index.claim("doc-a", sig)
    ref = str(doc_ref("doc-a"))
    assert index.stored_signature("doc-a") == sig
    assert index.forget("doc-a")
    assert index.stored_signature("doc-a") is None
    assert not index.forget("doc-a")
    # No bucket still names the document as a band owner.
    for key in keys(redis_client, prefix):
        if key.startswith(f"{index.key_prefix}b:"):
            assert ref not in redis_client.hvals(key)
    assert f"{index.key_prefix}s:{ref}" not in keys(redis_client, prefix)
    # Gone from the index: a near copy now leads its own cluster.
    assert index.claim("doc-b", text_signature(near_copy(words, 10))).canonical


def test_forget_leaves_bands_another_document_owns(
    index: NearDupIndex, redis_client: redis.Redis, prefix: str
) -> None:
    words = story(11)
    index.claim("doc-a", text_signature(" ".join(words)))
    copy_sig = text_signature(near_copy(words, 12, changes=12))
    index.claim("doc-b", copy_sig)
    owned_by_b = {
        field
        for key in keys(redis_client, prefix)
        if key.startswith(f"{index.key_prefix}b:")
        for field, owner in redis_client.hgetall(key).items()
        if owner == str(doc_ref("doc-b"))
    }
    assert owned_by_b  # the bands its edits changed
    index.forget("doc-a")
    still = {
        field
        for key in keys(redis_client, prefix)
        if key.startswith(f"{index.key_prefix}b:")
        for field in redis_client.hkeys(key)
    }
    assert owned_by_b <= still
    assert {str(h) for h in band_hashes(copy_sig)} >= owned_by_b


def test_every_key_expires_within_the_horizon(
    index: NearDupIndex, redis_client: redis.Redis, prefix: str
) -> None:
    for n in range(30):
        index.claim(f"doc-{n}", text_signature(" ".join(story(100 + n))))
    found = keys(redis_client, prefix)
    assert any(k.startswith(f"{index.key_prefix}s:") for k in found)
    assert any(k.startswith(f"{index.key_prefix}b:") for k in found)
    for key in found:
        ttl = redis_client.ttl(key)
        assert 0 < ttl <= HORIZON, key


def test_horizon_is_configurable(redis_client: redis.Redis, prefix: str) -> None:
    short = NearDupIndex(redis_client, prefix, horizon_seconds=120)
    short.claim("doc-a", text_signature(" ".join(story(13))))
    assert all(0 < redis_client.ttl(k) <= 120 for k in keys(redis_client, prefix))


def _claim_worker(
    url: str, prefix: str, jobs: list[tuple[str, str]], barrier: Any, out: Any
) -> None:
    """One worker process: its own Redis client, waits for the others, then claims its docs."""
    client = redis.Redis.from_url(url, decode_responses=True)
    index = NearDupIndex(client, prefix, horizon_seconds=HORIZON)
    sigs = [(doc_id, text_signature(text)) for doc_id, text in jobs]
    barrier.wait(timeout=60)
    for doc_id, sig in sigs:
        result = index.claim(doc_id, sig)
        out.put((doc_id, result.cluster_id, result.canonical))
    client.close()


def test_concurrent_workers_never_make_two_canonicals(
    settings: Settings, redis_client: redis.Redis, prefix: str
) -> None:
    """4 processes claim 10 clusters × 4 near-copies at once: one canonical per cluster."""
    clusters, copies, workers = 10, 4, 4
    jobs: list[list[tuple[str, str]]] = [[] for _ in range(workers)]
    truth: dict[str, int] = {}
    for c in range(clusters):
        words = story(1000 + c)
        texts = [near_copy(words, 50 * c + k, changes=1) for k in range(copies)]
        # The race, not LSH recall, is under test: every two copies of a cluster share a band
        # and pass the estimate, so whichever claims first, the others find it.
        sigs = [text_signature(t) for t in texts]
        for a, b in combinations(sigs, 2):
            assert set(band_hashes(a)) & set(band_hashes(b))
            assert estimate(a, b) >= DEFAULT_THRESHOLD
        for k, text in enumerate(texts):
            doc_id = f"c{c}-copy{k}"
            truth[doc_id] = c
            # Copy k of every cluster goes to worker k: the copies of a cluster really race.
            jobs[k % workers].append((doc_id, text))
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_claim_worker, args=(settings.redis_url, prefix, jobs[w], barrier, out))
        for w in range(workers)
    ]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=120) for _ in range(clusters * copies)]
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0

    canonical = {doc_id for doc_id, _, is_canonical in results if is_canonical}
    assert Counter(truth[d] for d in canonical) == Counter(range(clusters))
    leader = {truth[d]: d for d in canonical}
    for doc_id, cluster_id, _ in results:
        assert cluster_id == leader[truth[doc_id]], doc_id


def test_redis_bytes_per_document(
    index: NearDupIndex, redis_client: redis.Redis, prefix: str
) -> None:
    """MEMORY USAGE over every key of the index, per stored document: ≤ 1.5 KB."""
    docs = 3000
    rng = random.Random(14)
    pipe = redis_client.pipeline(transaction=False)
    for n in range(docs):
        # Random signatures stand in for unrelated documents (the common case: all 14 bands
        # claimed); a 64-character id like the pipeline's content hashes.
        sig = tuple(rng.randrange(2**32) for _ in range(112))
        index.claim_script(args=index.claim_args(f"{n:064x}", sig), client=pipe)
        if n % 500 == 499:
            pipe.execute()
    pipe.execute()
    total = sum(redis_client.memory_usage(k, samples=0) or 0 for k in keys(redis_client, prefix))
    assert total / docs <= 1500, f"{total / docs:.0f} bytes per document"


def test_a_match_near_the_threshold_is_decided_by_the_exact_jaccard(
    settings: Settings, redis_client: redis.Redis, clean_state: None
) -> None:
    index = NearDupIndex(redis_client, settings.key_prefix)
    original = set(range(1000))
    below = set(range(150, 1150))  # exact J 0.739; its estimate, 0.786, passes the first bar
    above = set(range(80, 1080))  # exact J 0.852; estimate 0.893, short of a clear match
    assert (
        index.threshold - index.margin
        <= estimate(signature(original), signature(below))
        < index.threshold
    )
    assert (
        index.threshold
        <= estimate(signature(original), signature(above))
        < index.threshold + index.margin
    )
    index.claim("original", signature(original))

    def lookup(doc_id: str) -> set[int] | None:
        return original if doc_id == "original" else None

    rejected = index.claim_confirmed("below", below, lookup)
    assert rejected.canonical and rejected.cluster_id == "below"
    assert index.claim("below", signature(below)).canonical  # the revert was stored
    confirmed = index.claim_confirmed("above", above, lookup)
    assert confirmed.cluster_id == "original" and not confirmed.canonical
    assert confirmed.similarity == pytest.approx(jaccard(original, above))
    # Without the canonical's text, the estimate decides: under the threshold, no match.
    unknown = index.claim_confirmed(
        "unknown", set(range(0, 850)) | set(range(5000, 5150)), lambda _: None
    )
    assert unknown.canonical
