"""A lead summary: the body's first one or two sentences, cut on a sentence boundary."""

from __future__ import annotations

from tasks.cleaning.paragraphs import first_sentence
from tasks.document import Document

MAX_CHARS = 300
MAX_SENTENCES = 2


def lead(body: str, max_chars: int = MAX_CHARS, max_sentences: int = MAX_SENTENCES) -> str | None:
    """Up to `max_sentences` opening sentences within `max_chars`; None for an empty body."""
    rest = body.strip()
    sentences: list[str] = []
    while rest and len(sentences) < max_sentences:
        # first_sentence returns a prefix of `rest` (it never crosses a paragraph break).
        raw = first_sentence(rest)
        sentence = " ".join(raw.split())
        if sentences and len(" ".join([*sentences, sentence])) > max_chars:
            break
        sentences.append(sentence)
        rest = rest[len(raw) :].strip()
    if not sentences:
        return None
    summary = " ".join(sentences)
    if len(summary) > max_chars:
        # One over-long sentence: cut on a word boundary rather than return a wall of text.
        summary = summary[: max_chars + 1].rsplit(" ", 1)[0].rstrip(" ,;:-–—") + "…"
    return summary


class SummaryEnricher:
    """Sets `summary` to the lead."""

    name = "summary"

    def enrich(self, docs: list[Document]) -> list[Document]:
        """Take each body's lead."""
        return [d.replace(summary=lead(d.body)) for d in docs]
