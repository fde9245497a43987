"""Near-duplicate accuracy: planted near-copies and same-story negatives, claimed in Redis.

    python -m bench.neardup_accuracy [--per-bucket 300] [--seed 7] [--redis-url URL]

Near-copies are made from the real gold bodies of the article-extraction dev set by the edits
scrapers make (body repeated, lead dropped, boilerplate added, light rewording, truncation,
and pairs of those), and kept so the exact word 5-gram Jaccard to the original is spread
evenly over 0.5–1.0. Negatives are same-story, different-text pairs: the dev set's most
topically similar article pairs, paraphrase-level rewrites, and an article quoting another's
paragraph. Each pair is claimed (original, then copy) into a real NearDupIndex under its own
prefix, then forgotten; precision and recall count a copy as found when it joins the
original's cluster, against the truth "exact Jaccard ≥ 0.8".
"""

from __future__ import annotations

import argparse
import random
import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import redis

from bench.corpus import _FOOTER_LINES, _RELATED_HEADINGS, _SHARE_LINES, Article, load_articles
from tasks.neardup import NearDupIndex, jaccard, shingles, signature

TRUTH = 0.8
BUCKETS = tuple(round(0.5 + 0.1 * i, 1) for i in range(5))
_WORD = re.compile(r"\w+")
# Content words for "same topic": the dev set's pages share their function words.
_MIN_TOPIC_WORD = 6


@dataclass(frozen=True)
class Pair:
    """An original, a second text, what made the second, and their exact Jaccard."""

    kind: str
    original: str
    other: str
    exact: float


Edit = Callable[[random.Random, list[str], Sequence[str]], list[str]]


def _words(paragraphs: list[str]) -> list[list[str]]:
    return [p.split() for p in paragraphs]


def truncated(rng: random.Random, paragraphs: list[str], _: Sequence[str]) -> list[str]:
    """The text cut off after a share of its words (a scraper that stopped early)."""
    words = " ".join(paragraphs).split()
    return [" ".join(words[: max(5, int(len(words) * rng.uniform(0.45, 1.0)))])]


def lead_dropped(rng: random.Random, paragraphs: list[str], _: Sequence[str]) -> list[str]:
    """The first paragraph(s) missing (a page whose lead sat in another element)."""
    drop = rng.randint(1, max(1, len(paragraphs) // 3))
    return paragraphs[drop:] or paragraphs[-1:]


def repeated(rng: random.Random, paragraphs: list[str], _: Sequence[str]) -> list[str]:
    """The body again after itself, sometimes without its lead (seed 000)."""
    start = rng.randint(0, min(2, len(paragraphs) - 1))
    return paragraphs + paragraphs[start:]


def boilerplate(rng: random.Random, paragraphs: list[str], headlines: Sequence[str]) -> list[str]:
    """Related-links blocks, share prompts and footer lines around the body."""
    extra: list[str] = [rng.choice(_RELATED_HEADINGS)]
    extra += rng.sample(list(headlines), min(len(headlines), rng.randint(2, 30)))
    extra += rng.sample(_SHARE_LINES, rng.randint(0, 3))
    extra += rng.sample(_FOOTER_LINES, rng.randint(0, 4))
    head = extra[: rng.randint(0, 2)]
    return head + paragraphs + extra[len(head) :]


def reworded(
    rng: random.Random, paragraphs: list[str], _: Sequence[str], rate: float = 0.0
) -> list[str]:
    """Words swapped, dropped or added here and there (an editor's light touch)."""
    rate = rate or rng.uniform(0.0, 0.13)
    vocab = [w for p in paragraphs for w in p.split()]
    out = []
    for words in _words(paragraphs):
        new: list[str] = []
        for word in words:
            roll = rng.random()
            if roll < rate / 2:
                new.append(rng.choice(vocab))
            elif roll < rate * 3 / 4:
                continue
            elif roll < rate:
                new += [word, rng.choice(vocab)]
            else:
                new.append(word)
        out.append(" ".join(new))
    return out


EDITS: dict[str, Edit] = {
    "truncated": truncated,
    "lead_dropped": lead_dropped,
    "repeated": repeated,
    "boilerplate": boilerplate,
    "reworded": reworded,
}


def planted_pairs(articles: Sequence[Article], rng: random.Random, per_bucket: int) -> list[Pair]:
    """Near-copies with exact Jaccard spread evenly over the 0.5–1.0 buckets."""
    headlines = [a.title for a in articles if a.title]
    by_bucket: dict[float, list[Pair]] = defaultdict(list)
    # Enough draws that every bucket fills; the edits' natural spread is uneven.
    for _ in range(per_bucket * 40):
        article = rng.choice(articles)
        original = list(article.paragraphs)
        kinds = rng.sample(sorted(EDITS), rng.choice((1, 1, 2)))
        copy = original
        for kind in kinds:
            copy = EDITS[kind](rng, copy, [h for h in headlines if h != article.title])
        a, b = "\n\n".join(original), "\n\n".join(copy)
        exact = jaccard(shingles(a), shingles(b))
        if a == b or not 0.5 <= exact < 1.0:
            continue
        bucket = BUCKETS[min(int((exact - 0.5) * 10), len(BUCKETS) - 1)]
        if len(by_bucket[bucket]) < per_bucket:
            by_bucket[bucket].append(Pair("+".join(kinds), a, b, exact))
        if all(len(by_bucket[x]) >= per_bucket for x in BUCKETS):
            break
    return [p for x in BUCKETS for p in by_bucket[x]]


def _topic_words(article: Article) -> set[str]:
    return {
        w.lower() for p in article.paragraphs for w in _WORD.findall(p) if len(w) >= _MIN_TOPIC_WORD
    }


def negative_pairs(articles: Sequence[Article], rng: random.Random, count: int) -> list[Pair]:
    """Same story (or topic), different text: must not be near-duplicates."""
    pairs: list[Pair] = []
    topics = [_topic_words(a) for a in articles]
    # Most topically overlapping pairs of different articles: the closest to "two outlets".
    scored = sorted(
        (
            (len(topics[i] & topics[j]) / max(1, len(topics[i] | topics[j])), i, j)
            for i in range(len(articles))
            for j in range(i + 1, len(articles))
        ),
        reverse=True,
    )
    for _, i, j in scored[: count // 3]:
        pairs.append(_pair("different_article", articles[i].paragraphs, articles[j].paragraphs))
    for _ in range(count // 3):
        # Paraphrase-level: a third or more of the words changed and the paragraphs reordered.
        article = rng.choice(articles)
        rewrite = reworded(rng, list(article.paragraphs), [], rate=rng.uniform(0.35, 0.6))
        rng.shuffle(rewrite)
        pairs.append(_pair("paraphrase", article.paragraphs, rewrite))
    for _ in range(count - len(pairs)):
        # Another outlet's story quoting one paragraph of this one.
        a, b = rng.sample(list(articles), 2)
        quoted = list(b.paragraphs)
        quoted.insert(rng.randrange(len(quoted) + 1), rng.choice(a.paragraphs))
        pairs.append(_pair("quotes_one_paragraph", a.paragraphs, quoted))
    return pairs


def _pair(kind: str, original: Sequence[str], other: Sequence[str]) -> Pair:
    a, b = "\n\n".join(original), "\n\n".join(other)
    return Pair(kind, a, b, jaccard(shingles(a), shingles(b)))


def _only(doc_id: str, known: set[int], asked: str) -> set[int] | None:
    """The shingles of the one document this pair knows."""
    return known if asked == doc_id else None


def detect(index: NearDupIndex, pairs: Sequence[Pair]) -> list[bool]:
    """Claim each pair (original, then the other); True when the other joins its cluster."""
    found = []
    for n, pair in enumerate(pairs):
        first, second = f"p{n}-original", f"p{n}-other"
        original = shingles(pair.original)
        index.claim(first, signature(original))
        # As the pipeline does: a match near the threshold is confirmed by the exact Jaccard
        # against the canonical's text (which the pipeline reads from the index).
        result = index.claim_confirmed(
            second, shingles(pair.other), partial(_only, first, original)
        )
        found.append(not result.canonical and result.cluster_id == first)
        # Pairs must not see each other (several come from the same article).
        index.forget(first)
        index.forget(second)
    return found


def report(pairs: Sequence[Pair], found: Sequence[bool]) -> str:
    """Precision/recall at exact J ≥ 0.8, detection rate by bucket, negatives by kind."""
    tp = sum(f and p.exact >= TRUTH for p, f in zip(pairs, found, strict=True))
    fp = sum(f and p.exact < TRUTH for p, f in zip(pairs, found, strict=True))
    fn = sum(not f and p.exact >= TRUTH for p, f in zip(pairs, found, strict=True))
    precision = tp / max(1, tp + fp)
    recall = tp / max(1, tp + fn)
    lines = [
        f"pairs: {len(pairs)}  truth: exact Jaccard ≥ {TRUTH}",
        f"precision {precision:.4f}  recall {recall:.4f}  (tp {tp}, fp {fp}, fn {fn})",
        "detection rate by exact Jaccard:",
    ]
    buckets: dict[str, list[bool]] = defaultdict(list)
    for pair, hit in zip(pairs, found, strict=True):
        if pair.exact < 0.5:
            key = "< 0.5 (negatives)"
        else:
            low = min(int(pair.exact * 10), 9) / 10
            key = f"{low:.1f}–{low + 0.1:.1f}"
        buckets[key].append(hit)
    for key in sorted(buckets):
        hits = buckets[key]
        lines.append(f"  {key:<18} {sum(hits) / len(hits):6.3f}  (n={len(hits)})")
    # Outside a ±0.05 band around the cut-off: how much of the error is MinHash's own noise.
    clear = [(p, f) for p, f in zip(pairs, found, strict=True) if abs(p.exact - TRUTH) >= 0.05]
    ctp = sum(f and p.exact >= TRUTH for p, f in clear)
    cfp = sum(f and p.exact < TRUTH for p, f in clear)
    cfn = sum(not f and p.exact >= TRUTH for p, f in clear)
    lines.append(
        f"outside 0.75–0.85: precision {ctp / max(1, ctp + cfp):.4f}  "
        f"recall {ctp / max(1, ctp + cfn):.4f}  (n={len(clear)})"
    )
    kinds: dict[str, Counter[bool]] = defaultdict(Counter)
    for pair, hit in zip(pairs, found, strict=True):
        if pair.exact < 0.5:
            kinds[pair.kind][hit] += 1
    for kind, flagged in sorted(kinds.items()):
        lines.append(f"  negatives {kind:<22} flagged {flagged[True]} of {flagged.total()}")
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for pair, hit in zip(pairs, found, strict=True):
        if pair.exact >= TRUTH:
            by_kind[pair.kind].append(hit)
    lines.append("recall by edit (exact ≥ 0.8):")
    for kind, hits in sorted(by_kind.items()):
        lines.append(f"  {kind:<26} {sum(hits) / len(hits):6.3f}  (n={len(hits)})")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: build the pairs, claim them in Redis, print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.neardup_accuracy", description=__doc__)
    parser.add_argument("--per-bucket", type=int, default=300)
    parser.add_argument("--negatives", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args(argv)
    articles = load_articles(args.data)
    rng = random.Random(args.seed)
    pairs = planted_pairs(articles, rng, args.per_bucket) + negative_pairs(
        articles, rng, args.negatives
    )
    client = redis.Redis.from_url(args.redis_url)
    prefix = f"dropsift-bench-neardup-{uuid.uuid4().hex[:8]}:"
    try:
        found = detect(NearDupIndex(client, prefix, horizon_seconds=3600), pairs)
    finally:
        leftovers = list(client.scan_iter(f"{prefix}*", count=1000))
        if leftovers:
            client.delete(*leftovers)
    print(report(pairs, found))


if __name__ == "__main__":
    main()
