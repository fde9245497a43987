"""Near-duplicate cost per document as the index grows: ms and Redis bytes at 10k, 100k, 1M.

    python -m bench.neardup_cost [--scales 10000,100000,1000000] [--real 300] [--redis-url URL]

The index is filled with random signatures (unrelated documents, the common case: each one
claims all 14 bands) through pipelined claim calls, up to each scale in turn. At each scale:
Redis bytes per stored document, as MEMORY USAGE summed over every key of the index (and,
for comparison, the server's used_memory growth, which also counts the keyspace's own
tables and expiry entries); then `--real` generated news documents (~5 KB) are signed and
claimed on top, timing shingle+signature and the claim call separately (median and p95, ms),
and forgotten again. Everything lives under a fresh prefix, deleted at the end.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Sequence

import numpy as np
import redis

from bench.clean_cost import percentile
from bench.corpus import news_documents
from tasks.neardup import PERMUTATIONS, NearDupIndex, text_signature

_BATCH = 2000


def fill(index: NearDupIndex, client: redis.Redis, start: int, stop: int, seed: int) -> float:
    """Claim random signatures for documents start..stop-1; returns seconds taken."""
    rng = np.random.default_rng([seed, start])
    began = time.perf_counter()
    for low in range(start, stop, _BATCH):
        high = min(stop, low + _BATCH)
        sigs = rng.integers(0, 2**32, size=(high - low, PERMUTATIONS), dtype=np.uint64)
        pipe = client.pipeline(transaction=False)
        for n, sig in zip(range(low, high), sigs.tolist(), strict=True):
            # 64 hex characters, like the pipeline's content-hash doc ids.
            index.claim_script(args=index.claim_args(f"{n:064x}", tuple(sig)), client=pipe)
        pipe.execute()
    return time.perf_counter() - began


def memory_usage(client: redis.Redis, prefix: str) -> tuple[int, int]:
    """(documents, bytes): stored records, and MEMORY USAGE summed over every key of `prefix`."""
    records = 0
    total = 0
    batch: list[bytes] = []

    def flush() -> int:
        pipe = client.pipeline(transaction=False)
        for key in batch:
            pipe.memory_usage(key, samples=0)
        return sum(int(v or 0) for v in pipe.execute())

    for key in client.scan_iter(f"{prefix}*", count=5000):
        batch.append(key)
        records += key.startswith(f"{prefix}s:".encode())
        if len(batch) >= 5000:
            total += flush()
            batch.clear()
    if batch:
        total += flush()
    return records, total


def used_memory(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def wait_for_quiet(client: redis.Redis, limit: float = 300) -> None:
    """Until Redis has no background save or append-only rewrite running (filling triggers
    them; their fork and writes would be timed as claim cost)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        info = client.info("persistence")
        if not info.get("aof_rewrite_in_progress") and not info.get("rdb_bgsave_in_progress"):
            return
        time.sleep(0.5)


def time_real(index: NearDupIndex, texts: Sequence[str]) -> tuple[list[float], list[float]]:
    """(signature ms, claim ms) per real document; the documents are forgotten afterwards."""
    sign_ms, claim_ms = [], []
    for n, text in enumerate(texts):
        began = time.perf_counter()
        sig = text_signature(text)
        signed = time.perf_counter()
        index.claim(f"real-{n}", sig)
        claimed = time.perf_counter()
        sign_ms.append((signed - began) * 1000)
        claim_ms.append((claimed - signed) * 1000)
    for n in range(len(texts)):
        index.forget(f"real-{n}")
    return sign_ms, claim_ms


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: fill to each scale, print bytes/doc and ms/doc."""
    parser = argparse.ArgumentParser(prog="python -m bench.neardup_cost", description=__doc__)
    parser.add_argument("--scales", default="10000,100000,1000000")
    parser.add_argument("--real", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument(
        "--max-fill-seconds", type=float, default=1800, help="stop before a scale past this"
    )
    args = parser.parse_args(argv)
    scales = [int(s) for s in args.scales.split(",")]
    texts = [d.text for d in news_documents(args.real, args.seed)]
    size = statistics.fmean(len(t.encode("utf-8")) for t in texts) / 1000
    client = redis.Redis.from_url(args.redis_url)
    prefix = f"dropsift-bench-neardup-cost-{uuid.uuid4().hex[:8]}:"
    index = NearDupIndex(client, prefix, horizon_seconds=3 * 3600)
    for text in texts[:20]:
        text_signature(text)  # warm-up: imports, word-hash cache
    print(f"real documents: {len(texts)} ({size:.1f} KB each); prefix {prefix}")
    print(
        f"{'stored':>9} {'fill s':>8} {'B/doc':>7} {'used B/doc':>10} {'depth':>5} "
        f"{'sig ms p50/p95':>15} {'claim ms p50/p95':>17} {'total p50':>9}"
    )
    stored = 0
    spent = 0.0
    baseline = used_memory(client)
    try:
        for scale in scales:
            if spent and spent / stored * (scale - stored) + spent > args.max_fill_seconds:
                print(f"{scale:>9} skipped: filling would pass --max-fill-seconds")
                break
            took = fill(index, client, stored, scale, args.seed)
            spent += took
            stored = scale
            records, total = memory_usage(client, index.key_prefix)
            grown = used_memory(client) - baseline
            if records != stored:
                # Another user of the server flushed or deleted keys: per-document figures
                # are over what is really there, and used_memory growth means nothing.
                print(f"  warning: {stored - records} of {stored} documents gone meanwhile")
                grown = 0
            depth = int(client.get(f"{index.key_prefix}depth") or 0)
            wait_for_quiet(client)
            sign_ms, claim_ms = time_real(index, texts)
            both = [s + c for s, c in zip(sign_ms, claim_ms, strict=True)]
            print(
                f"{stored:>9} {took:>8.1f} {total / max(1, records):>7.0f} {grown / stored:>10.0f} "
                f"{depth:>5} {statistics.median(sign_ms):>7.2f}/{percentile(sign_ms, 0.95):<7.2f}"
                f" {statistics.median(claim_ms):>8.2f}/{percentile(claim_ms, 0.95):<8.2f}"
                f" {statistics.median(both):>9.2f}",
                flush=True,
            )
    finally:
        batch: list[bytes] = []
        for key in client.scan_iter(f"{prefix}*", count=5000):
            batch.append(key)
            if len(batch) >= 5000:
                client.unlink(*batch)
                batch.clear()
        if batch:
            client.unlink(*batch)


if __name__ == "__main__":
    main()
