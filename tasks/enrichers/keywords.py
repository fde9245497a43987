"""Keywords by YAKE (statistical, per document, no model), in the document's language."""

from __future__ import annotations

from functools import lru_cache

import yake

from tasks.document import Document

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


@lru_cache(maxsize=32)
def _extractor(language: str) -> yake.KeywordExtractor:
    """One extractor per language: building one reads its stop-word list from disk."""
    # Ask for more than TOP: case-insensitive dedupe below may fold some together.
    return yake.KeywordExtractor(lan=language, n=MAX_WORDS, top=TOP * 2)


def keywords(text: str, language: str | None, top: int = TOP) -> list[str]:
    """The `top` keyphrases of `text`, as written, deduplicated case-insensitively."""
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
    """Sets `keywords`."""

    name = "keywords"

    def enrich(self, docs: list[Document]) -> list[Document]:
        """Extract each body's keywords in its detected language."""
        return [d.replace(keywords=keywords(d.body, d.language)) for d in docs]
