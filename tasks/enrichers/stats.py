"""Word count and reading time."""

from __future__ import annotations

import re

from tasks.document import Document

# Chinese and Japanese are written without spaces: each ideograph or kana counts as a word
# (the usual convention for word counts in those scripts); elsewhere a word is a run of \w.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
WORD = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
# A common adult silent-reading speed for English prose.
WORDS_PER_MINUTE = 230


def word_count(text: str) -> int:
    """Words in `text` (CJK characters count one each)."""
    # Counted as found, not listed: a 30 MB body holds five million words.
    return sum(1 for _ in WORD.finditer(text))


def reading_time(words: int) -> float:
    """Minutes to read `words` words, to one decimal."""
    return round(words / WORDS_PER_MINUTE, 1)


class StatsEnricher:
    """Sets `word_count` and `reading_time_minutes`."""

    name = "stats"

    def enrich(self, docs: list[Document]) -> list[Document]:
        """Count words and derive reading time."""
        out = []
        for doc in docs:
            words = word_count(doc.body)
            out.append(doc.replace(word_count=words, reading_time_minutes=reading_time(words)))
        return out
