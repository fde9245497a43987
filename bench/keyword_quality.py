"""Keywords by TF-IDF against YAKE: cost per document, and usefulness on judged samples.

    python -m bench.keyword_quality            # the figures, from bench/data/keyword_judgments.json
    python -m bench.keyword_quality --blind    # the phrases to judge, shuffled, methods hidden

Documents: the dev split's real article bodies (with their page titles) and the two seeds.
TF-IDF counts every document into its document frequencies first (what the pipeline's
table holds once it has seen them). Usefulness: every phrase either method gives for the
judged documents was judged once, blind to the method, as a search facet a reader would
click ("peace talks", "Istanbul") or not (a fragment like "Russia met", a bare verb or
adjective, a generic word); a method's precision is the share of its phrases judged useful.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from bench.corpus import load_articles
from tasks.clean import clean
from tasks.document import Document
from tasks.enrichers.keywords import (
    MemoryFrequencies,
    corpus_statistics,
    keywords_many,
    yake_keywords,
)
from tasks.enrichers.language import detect_language
from tasks.extract import read_file

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
JUDGMENTS = Path(__file__).resolve().parent / "data" / "keyword_judgments.json"
JUDGED = 12


def documents() -> list[Document]:
    """The seeds, cleaned, then the dev articles' gold bodies."""
    docs = [
        clean(read_file(p, 10**8, {}).documents[0]).replace(language="en", doc_id=p.name[:3])
        for p in sorted(SEEDS.glob("*.txt"))
    ]
    for article in load_articles():
        body = "\n\n".join(article.paragraphs)
        docs.append(
            Document(
                source=article.id,
                text=body,
                body=body,
                title=article.title,
                language=detect_language(body),
                doc_id=article.id,
            )
        )
    return docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--blind", action="store_true", help="print the phrases to judge")
    args = parser.parse_args()
    docs = documents()
    frequencies = MemoryFrequencies()
    with corpus_statistics(frequencies):
        keywords_many(docs)  # the corpus counted in, as the pipeline's table would hold it
        started = time.perf_counter()
        tfidf = keywords_many(docs)
        tfidf_ms = (time.perf_counter() - started) / len(docs) * 1000
    started = time.perf_counter()
    yake = [yake_keywords(d.body, d.language) for d in docs]
    yake_ms = (time.perf_counter() - started) / len(docs) * 1000
    judged = docs[:JUDGED]
    if args.blind:
        rng = random.Random(0)
        for i, doc in enumerate(judged):
            phrases = sorted({*tfidf[i], *yake[i]})
            rng.shuffle(phrases)
            print(json.dumps({"doc": doc.doc_id, "title": doc.title, "phrases": phrases}))
        return
    verdicts = json.loads(JUDGMENTS.read_text())
    print(f"{len(docs)} documents; TF-IDF {tfidf_ms:.2f} ms, YAKE {yake_ms:.2f} ms per document")
    for name, found in (("TF-IDF", tfidf), ("YAKE", yake)):
        useful = total = unjudged = 0
        for i, doc in enumerate(judged):
            marks = verdicts.get(doc.doc_id, {})
            for phrase in found[i]:
                if phrase in marks.get("useful", []):
                    useful += 1
                elif phrase not in marks.get("not", []):
                    unjudged += 1
                total += 1
        print(
            f"{name}: {useful} of {total} phrases useful on {len(judged)} judged documents "
            f"(precision {useful / total:.2f}; unjudged {unjudged})"
        )
    for i, doc in enumerate(docs[:2]):
        print(f"{doc.doc_id}: TF-IDF {tfidf[i]}\n     YAKE   {yake[i]}")


if __name__ == "__main__":
    main()
