"""Cost of each enricher per document, spaCy batch throughput, and peak memory.

    python -m bench.enrich_cost [--n 500] [--seed 7] [--batch-size 8] [--variants]

Documents: the two seeds and `n` generated news-sized documents (bench.corpus), read and
cleaned as the pipeline does. Prints ms/doc per enricher (each run once over the whole batch,
after a warm-up that loads models), entities' docs/s through nlp.pipe against one call per
document, and the process's peak RSS with the model loaded. `--variants` then compares
pipeline exclusions and text caps: throughput, what the seeds' entities become, and on the real
article bodies of the dev split, the share of entities and keywords a cap keeps.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Sequence
from pathlib import Path

from bench.corpus import news_documents
from bench.html_quality import default_data_dir, load_pages
from tasks.clean import clean
from tasks.document import Document
from tasks.enrich import with_fallbacks
from tasks.enrichers import DEFAULT_ENRICHERS, ENRICHERS, run_enrichers
from tasks.enrichers.entities import (
    BATCH_SIZE,
    EXCLUDE,
    MODEL_PACKAGES,
    facets,
    model_mentions,
    refine,
)
from tasks.enrichers.keywords import keywords
from tasks.extract import read_file

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
_WARM_UP_DOCS = 10


def peak_rss_mb() -> float:
    """The process's peak resident set size so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed_docs() -> list[Document]:
    """The seeds, extracted and cleaned as the pipeline does."""
    return [clean(read_file(path, 10_000_000).documents[0]) for path in sorted(SEEDS.glob("*.txt"))]


def corpus_docs(n: int, seed: int) -> list[Document]:
    """`n` generated news-sized documents, cleaned."""
    return [
        clean(Document(source=f"/bench/{d.name}.txt", text=d.text)) for d in news_documents(n, seed)
    ]


def stage_costs(docs: list[Document]) -> list[Document]:
    """Print ms/doc per enricher in the default order; return the enriched documents."""
    run_enrichers(docs[:_WARM_UP_DOCS], DEFAULT_ENRICHERS)  # loads the detector, yake, spaCy
    batch = [with_fallbacks(d) for d in docs]
    # YAKE, the keywords' former method, beside them (its keywords are not kept).
    for name in (*DEFAULT_ENRICHERS, "keywords_yake"):
        start = time.perf_counter()
        done = ENRICHERS[name].enrich(batch)
        elapsed = time.perf_counter() - start
        batch = batch if name == "keywords_yake" else done
        print(f"  {name:<13} {elapsed * 1000 / len(batch):7.2f} ms/doc")
    return batch


def pipe_throughput(texts: Sequence[str], nlp: object, batch_size: int) -> tuple[float, float]:
    """Docs/s of the model alone: nlp.pipe over all texts, and one nlp() call per text."""
    start = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=batch_size):  # type: ignore[attr-defined]
        pass
    piped = len(texts) / (time.perf_counter() - start)
    start = time.perf_counter()
    for text in texts:
        nlp(text)  # type: ignore[operator]
    single = len(texts) / (time.perf_counter() - start)
    return piped, single


def variants(docs: list[Document], seeds: list[Document], batch_size: int) -> None:
    """Throughput and seed entities under other exclusions and text caps."""
    import spacy

    package = next(p for p in MODEL_PACKAGES if _installed(p))
    english = [d.body for d in docs if d.language == "en"]
    keep_tok2vec = tuple(c for c in EXCLUDE if c != "tok2vec")
    for label, exclude in (
        ("nothing excluded", ()),
        ("tok2vec kept", keep_tok2vec),
        ("default exclusions", EXCLUDE),
    ):
        nlp = spacy.load(package, exclude=list(exclude))
        piped, _ = pipe_throughput(english, nlp, batch_size)
        print(f"  {label:<20} pipes={nlp.pipe_names} {piped:6.1f} docs/s")
    nlp = spacy.load(package, exclude=list(EXCLUDE))
    reference = [_seed_entities(nlp, s.body) for s in seeds]
    for cap in (1000, 2000, 3000, 5000, 10_000):
        start = time.perf_counter()
        for _ in nlp.pipe([t[:cap] for t in english], batch_size=batch_size):
            pass
        rate = len(english) / (time.perf_counter() - start)
        lost = [
            sorted(set(ref) - set(_seed_entities(nlp, s.body[:cap])))
            for ref, s in zip(reference, seeds, strict=True)
        ]
        print(f"  cap {cap:>6} chars   {rate:6.1f} docs/s; seed entities lost: {lost}")
    real_article_caps(nlp)


def real_article_caps(nlp: object) -> None:
    """What a text cap keeps on real articles: the dev split's gold bodies, full text as truth.

    Entities: recall of the (kind, name) pairs found on the whole body. Keywords: the share
    of the whole body's top keywords still found. Both with ms per document at that cap.
    """
    try:
        bodies = [p.gold for p in load_pages(default_data_dir()) if len(p.gold) > CAP_STEPS[0]]
    except FileNotFoundError as exc:
        print(f"  no real articles ({exc})")
        return
    print(f"  caps on {len(bodies)} real article bodies (dev split, whole body as truth):")

    def names(text: str) -> set[tuple[str, str]]:
        found = facets(refine(text, model_mentions(nlp(text))))  # type: ignore[operator]
        return {(kind, name.casefold()) for kind, group in found.items() for name in group}

    def keys(text: str) -> set[str]:
        return {k.casefold() for k in keywords(text, "en")}

    for label, extract in (("entities", names), ("keywords", keys)):
        whole = [extract(b) for b in bodies]
        for cap in CAP_STEPS:
            start = time.perf_counter()
            capped = [extract(b[:cap]) for b in bodies]
            ms = (time.perf_counter() - start) * 1000 / len(bodies)
            kept = sum(len(c & w) for c, w in zip(capped, whole, strict=True))
            share = kept / max(1, sum(len(w) for w in whole))
            print(f"    {label:<8} cap {cap:>6} chars {ms:6.1f} ms/doc, kept {share:.3f}")


CAP_STEPS = (1500, 3000, 6000, 10_000)


def _installed(package: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(package) is not None


def _seed_entities(nlp: object, text: str) -> list[str]:
    """Every person/place/org name the model plus rules find in `text`."""
    found = facets(refine(text, model_mentions(nlp(text))))  # type: ignore[operator]
    return [name for names in found.values() for name in names]


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.enrich_cost", description=__doc__)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--variants", action="store_true")
    args = parser.parse_args(argv)
    seeds = seed_docs()
    try:
        generated = corpus_docs(args.n, args.seed)
    except FileNotFoundError as exc:  # the article set lives in shared/data, not in the repo
        print(f"no generated corpus ({exc}); seeds only")
        generated = []
    docs = seeds + generated
    size = sum(len(d.body) for d in docs) / len(docs)
    print(f"{len(docs)} documents ({len(seeds)} seeds), cleaned body {size:.0f} chars mean")
    print(f"peak RSS before enrichment: {peak_rss_mb():.0f} MB")
    enriched = stage_costs(docs)
    from tasks.enrichers.entities import load_model

    nlp = load_model()
    english = [d.body for d in enriched if d.language == "en"]
    piped, single = pipe_throughput(english, nlp, args.batch_size)
    print(
        f"entities model alone on {len(english)} English docs: nlp.pipe(batch_size="
        f"{args.batch_size}) {piped:.1f} docs/s, nlp() per doc {single:.1f} docs/s"
    )
    start = time.perf_counter()
    run_enrichers([with_fallbacks(d) for d in docs], DEFAULT_ENRICHERS)
    rate = len(docs) / (time.perf_counter() - start)
    print(f"all enrichers, one batch of {len(docs)}: {rate:.1f} docs/s")
    print(f"peak RSS with the model loaded: {peak_rss_mb():.0f} MB")
    if args.variants:
        variants(enriched, seeds, args.batch_size)


if __name__ == "__main__":
    main()
