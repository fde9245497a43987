"""How long `dropsift reindex` takes: N news-sized documents in an older index version, moved
to the current one (point in time + search_after, bulk writes, alias swap, catch-up, counts).

    python -m bench.reindex_cost --n 20000 --es-url http://127.0.0.1:9200
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import datetime

from bench.corpus import news_documents
from search.client import make_client
from search.index import concrete_name, drop_all, ensure_index
from search.indexer import bulk_index
from search.mapping import MAPPING_VERSION, MAPPINGS, SETTINGS
from search.reindex import reindex

_UNDATED = datetime(2025, 1, 1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=500, help="documents per page and bulk")
    parser.add_argument("--es-url", default="http://127.0.0.1:9200")
    args = parser.parse_args()

    es = make_client(args.es_url, request_timeout=120)
    alias = f"bench-{uuid.uuid4().hex[:6]}-docs"
    old = concrete_name(alias, MAPPING_VERSION - 1)
    try:
        # The cost does not depend on the old mapping: the current one stands in for it.
        es.indices.create(
            index=old,
            settings={**SETTINGS, "refresh_interval": "-1"},
            mappings=MAPPINGS,
            aliases={alias: {"is_write_index": True}},
        )
        docs = [
            (
                f"d{i}",
                {
                    "doc_id": f"d{i}",
                    "title": doc.gold_title or doc.name,
                    "body": doc.gold_body,
                    "published": (doc.gold_published or _UNDATED).isoformat(),
                },
            )
            for i, doc in enumerate(news_documents(args.n, args.seed))
        ]
        loaded = time.monotonic()
        bulk_index(es, alias, docs)
        es.indices.refresh(index=old)
        print(f"loaded {len(docs)} documents in {time.monotonic() - loaded:.1f}s")
        ensure_index(es, alias)
        report = reindex(es, alias, batch=args.batch)
        mb = sum(len(d[1]["body"]) for d in docs) / 1e6
        print(
            f"reindexed {report.copied} documents ({mb:.0f} MB of body text) in "
            f"{report.seconds:.1f}s: {report.copied / report.seconds:.0f} docs/s; counts "
            f"{report.source_count} old / {report.target_count} new"
        )
    finally:
        drop_all(es, alias)


if __name__ == "__main__":
    main()
