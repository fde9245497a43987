"""Keywords: noun-ish phrases of one or two words, ranked by TF-IDF over the corpus seen.

A candidate is a run of words between stop words and punctuation, cut where capitalisation
changes ("Ukrainian air force" gives "Ukrainian" and "air force", never "Ukrainian air"),
as unigrams and bigrams. Its weight is its frequency in the document (title words count
more) times its rarity among the documents seen so far: the document frequencies live in a
fixed-size table of counters (DocumentFrequencies: in Redis for the pipeline, shared by all
workers; in memory otherwise), so common words of the corpus sink without a list of them.
About a millisecond per 5 KB document. `keywords_yake` keeps YAKE (~50 ms) as an option.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from importlib import resources
from typing import Protocol

import redis
import yake

from tasks.document import Document
from tasks.enrichers.demonyms import is_demonym
from tasks.enrichers.mentions import read_lines
from tasks.redis_scripts import lua
from tasks.replies import as_text

TOP = 8
# Keyphrases up to two words: on the seeds three-word ones were mostly fragments
# ("Foreign Minister Hakan", "end the three-year"), and long phrases make poor facets.
MAX_WORDS = 2
# Past this a body is read only this far, as for entities: YAKE's time and memory grow with
# the text (12 s and 280 MB for a 5 MB body), and real articles are far shorter (the dev
# set's longest has 53,400 characters).
MAX_CHARS = 200_000
# Detector codes whose YAKE stop-word list is filed under another name.
_YAKE_LANGUAGE = {"cs": "cz"}
_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_]))*")
_POSSESSIVE = ("'s", "’s")
_CONTRACTION = re.compile(r"['’](?:re|ll|ve|d|t|m)$|n['’]t$")
_BREAK = re.compile(r"[.!?;:,()\[\]{}\"“”«»—–|/]|\s['‘’]|['‘’]\s|\n")
# Counters of the document-frequency table: 2^22 of 16 bits is 8 MB, whatever the corpus.
TABLE_BITS = 22
TITLE_WEIGHT = 2
BIGRAM_WEIGHT = 1.5


@lru_cache(maxsize=32)
def stop_words(language: str | None) -> frozenset[str]:
    """YAKE's stop-word list for the language (casefolded), with news words for English."""
    lan = _YAKE_LANGUAGE.get(language or "en", language or "en")
    folder = resources.files("yake.core") / "StopwordsList"
    path = folder / f"stopwords_{lan}.txt"
    if not path.is_file():
        return frozenset()
    words = frozenset(w.strip().casefold() for w in path.read_text("utf-8").splitlines())
    return words | frozenset(read_lines("news_stop_words.txt")) if lan == "en" else words


def slot(phrase: str) -> int:
    """The phrase's counter in the document-frequency table."""
    digest = hashlib.blake2b(phrase.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> (64 - TABLE_BITS)


class DocumentFrequencies(Protocol):
    """Counts in how many documents each phrase occurs: `observe` counts a batch in."""

    def observe(self, docs: Sequence[set[str]]) -> tuple[int, list[dict[str, int]]]:
        """Count each document's distinct phrases; returns the documents counted so far and,
        per document, each phrase's document frequency (this document included)."""
        ...


class MemoryFrequencies:
    """Document frequencies of this process's documents (no service needed)."""

    def __init__(self) -> None:
        self.table: Counter[int] = Counter()
        self.docs = 0

    def observe(self, docs: Sequence[set[str]]) -> tuple[int, list[dict[str, int]]]:
        out = []
        for phrases in docs:
            for phrase in phrases:
                self.table[slot(phrase)] += 1
            out.append({p: self.table[slot(p)] for p in phrases})
        self.docs += len(docs)
        return self.docs, out


_OBSERVE = lua(__name__, "observe")


class RedisFrequencies:
    """Document frequencies shared by every worker: one Redis string of 16-bit counters."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.r = client
        self.table = f"{prefix}kw:df"
        self.docs = f"{prefix}kw:docs"
        self._observe = client.register_script(_OBSERVE)

    def observe(self, docs: Sequence[set[str]]) -> tuple[int, list[dict[str, int]]]:
        """One round trip: the batch's counters incremented, their values back."""
        ordered = [sorted(phrases) for phrases in docs]
        slots = ",".join(str(slot(p)) for phrases in ordered for p in phrases)
        seen, values = self._observe(keys=[self.table, self.docs], args=[slots, len(docs)])
        counts = iter(int(v) for v in as_text(values).split(",") if v)
        return int(seen), [{p: next(counts) for p in phrases} for phrases in ordered]


_FREQUENCIES: ContextVar[DocumentFrequencies | None] = ContextVar("frequencies", default=None)
_LOCAL = MemoryFrequencies()


@contextmanager
def corpus_statistics(frequencies: DocumentFrequencies) -> Iterator[None]:
    """Keywords computed inside use these document frequencies (the pipeline's, in Redis)."""
    token = _FREQUENCIES.set(frequencies)
    try:
        yield
    finally:
        _FREQUENCIES.reset(token)


def _candidates(text: str, stops: frozenset[str]) -> Iterator[tuple[str, ...]]:
    """Unigrams and bigrams of the runs of words between stop words and punctuation."""
    for piece in _BREAK.split(text):
        run: list[str] = []
        for word in _WORD.findall(piece):
            if word.endswith(_POSSESSIVE):
                word = word[:-2]
            folded = word.casefold()
            contracted = ("'" in folded or "’" in folded) and _CONTRACTION.search(folded)
            if folded in stops or len(folded) < 2 or contracted:
                yield from _grams(run)
                run = []
                continue
            if run and run[-1][0].isupper() != word[0].isupper():
                yield from _grams(run)
                run = []
            run.append(word)
        yield from _grams(run)


def _grams(run: list[str]) -> Iterator[tuple[str, ...]]:
    for i, word in enumerate(run):
        yield (word,)
        if i + 1 < len(run):
            yield (word, run[i + 1])


def _phrases(title: str, body: str, stops: frozenset[str]) -> tuple[Counter[str], dict[str, str]]:
    """Each phrase's weighted frequency (casefolded), and its most common spelling.

    A bigram the body has only once is a chance pairing, not a phrase: left out.
    """
    written = Counter(" ".join(gram) for gram in _candidates(body, stops))
    in_title = Counter(" ".join(gram) for gram in _candidates(title, stops)) if title else {}
    counts: Counter[str] = Counter()
    best: dict[str, tuple[int, str]] = {}
    for spelling, n in written.items():
        folded = spelling.casefold()
        counts[folded] += n
        if n > best.get(folded, (0, ""))[0]:
            best[folded] = (n, spelling)
    for phrase in [p for p, n in counts.items() if n < 2 and " " in p]:
        del counts[phrase]
    for spelling, n in in_title.items():
        folded = spelling.casefold()
        if folded in counts or " " not in folded:
            counts[folded] += TITLE_WEIGHT * n
            best.setdefault(folded, (0, spelling))
    return counts, {k: spelling for k, (_, spelling) in best.items()}


def rank(
    counts: Counter[str], spellings: dict[str, str], docs: int, df: dict[str, int], top: int
) -> list[str]:
    """The `top` phrases by TF-IDF; a word inside a chosen bigram is not chosen again, and
    a demonym is no keyword on its own."""

    def score(phrase: str) -> float:
        idf = math.log((docs + 1) / (df.get(phrase, 1) + 1)) + 1
        bonus = BIGRAM_WEIGHT if " " in phrase else 1.0
        return counts[phrase] * idf * bonus

    chosen: list[str] = []
    covered: set[str] = set()
    for phrase in sorted(counts, key=lambda p: (-score(p), p)):
        words = phrase.split()
        # "Ukrainian" alone is an adjective of a place (the place is a facet of its own).
        if phrase in covered or (len(words) == 1 and is_demonym(spellings[phrase])):
            continue
        inside = [i for i, c in enumerate(chosen) if c in words]
        if inside:
            chosen[inside[0]] = phrase  # the more specific phrase, where its word ranked
        else:
            chosen.append(phrase)
        covered.update(words)
        if len(chosen) == top:
            break
    return [spellings[p] for p in dict.fromkeys(chosen)]


def keywords_many(docs: Sequence[Document], top: int = TOP) -> list[list[str]]:
    """Each document's keyphrases, the batch counted into the corpus statistics at once."""
    counted = [
        _phrases(d.title or "", d.body[:MAX_CHARS], stop_words(d.language or "en"))
        if d.body.strip()
        else None
        for d in docs
    ]
    frequencies = _FREQUENCIES.get() or _LOCAL
    seen, dfs = frequencies.observe([set(c[0]) if c else set() for c in counted])
    return [
        rank(c[0], c[1], seen, df, top) if c else [] for c, df in zip(counted, dfs, strict=True)
    ]


def keywords(text: str, language: str | None, top: int = TOP, title: str = "") -> list[str]:
    """The `top` keyphrases of `text`, as written, deduplicated case-insensitively."""
    doc = Document(source="", text=text, body=text, title=title, language=language)
    return keywords_many([doc], top)[0]


@lru_cache(maxsize=32)
def _extractor(language: str) -> yake.KeywordExtractor:
    """One extractor per language: building one reads its stop-word list from disk."""
    # Ask for more than TOP: case-insensitive dedupe below may fold some together.
    return yake.KeywordExtractor(lan=language, n=MAX_WORDS, top=TOP * 2)


def yake_keywords(text: str, language: str | None, top: int = TOP) -> list[str]:
    """YAKE's `top` keyphrases of `text`, as written, deduplicated case-insensitively."""
    if not text.strip():
        return []
    # Unknown languages get YAKE's language-neutral stop list (it falls back by itself).
    lan = _YAKE_LANGUAGE.get(language or "en", language or "en")
    found: dict[str, str] = {}
    for phrase, _score in _extractor(lan).extract_keywords(text[:MAX_CHARS]):
        found.setdefault(phrase.casefold(), phrase)
        if len(found) == top:
            break
    return list(found.values())


class KeywordsEnricher:
    """Sets `keywords` by TF-IDF over the corpus statistics."""

    name = "keywords"
    phase = 2

    def enrich(self, docs: list[Document]) -> list[Document]:
        """Rank each body's phrases, counting the batch into the document frequencies."""
        found = keywords_many(docs)
        return [d.replace(keywords=k) for d, k in zip(docs, found, strict=True)]


class YakeKeywordsEnricher:
    """Sets `keywords` by YAKE (statistical, per document, no corpus)."""

    name = "keywords_yake"
    phase = 2

    def enrich(self, docs: list[Document]) -> list[Document]:
        """Extract each body's keywords in its detected language."""
        return [d.replace(keywords=yake_keywords(d.body, d.language)) for d in docs]
