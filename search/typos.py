"""Typo tolerance: how many typos a word may have, and which indexed words it may have meant.

As Meilisearch and Typesense do by default: no typo up to four characters, one from five,
two from nine, and the first letter is never a typo. The words a typo may stand for come
from the index (the term suggester over the exact subfields), so the query, and above all
the highlighter, work with plain terms: Elasticsearch's own fuzzy queries cost the
highlighter an automaton per hit and field (60-130 ms for ten hits of 5 KB).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from elasticsearch import Elasticsearch

ONE_TYPO_FROM = 5
TWO_TYPOS_FROM = 9
FUZZY_PREFIX_LENGTH = 1
# Bounds on the work one query may cause: words looked up, and spellings kept per word.
MAX_TYPO_WORDS = 8
MAX_SPELLINGS = 8
SPELLING_FIELDS = ("title.exact", "body.exact")
Spellings = dict[str, tuple[str, ...]]
"""A typed word (lowercased) -> indexed words one or two typos away, best first."""

_PHRASE = re.compile(r'"[^"]*"?')
_PLAIN_WORD = re.compile(r"^([+|(]*)([^\W\d_]+)(\)*)$")
_SAFE_TERM = re.compile(r"^\w+$")


def typos_allowed(word: str) -> int:
    """Edits a word of this length may be away from what it matches."""
    if len(word) >= TWO_TYPOS_FROM:
        return 2
    return 1 if len(word) >= ONE_TYPO_FROM else 0


def _rewrite(q: str, replace: Callable[[str, int], str]) -> str:
    """q with replace(word, typos) for each plain word long enough to have typos.

    Phrases, excluded words (`-word`), prefixes (`word*`), words with digits and words past
    the MAX_TYPO_WORDS-th stay as they are.
    """
    seen = 0

    def words(text: str) -> str:
        nonlocal seen
        out = []
        for token in re.split(r"(\s+)", text):
            match = _PLAIN_WORD.match(token)
            typos = typos_allowed(match[2]) if match else 0
            if match and typos and seen < MAX_TYPO_WORDS:
                seen += 1
                token = f"{match[1]}{replace(match[2], typos)}{match[3]}"
            out.append(token)
        return "".join(out)

    pieces: list[str] = []
    last = 0
    for phrase in _PHRASE.finditer(q):
        pieces += [words(q[last : phrase.start()]), phrase.group()]
        last = phrase.end()
    pieces.append(words(q[last:]))
    return "".join(pieces)


def typo_words(q: str) -> list[tuple[str, int]]:
    """The words of q that may have typos, with how many."""
    found: list[tuple[str, int]] = []

    def note(word: str, typos: int) -> str:
        found.append((word, typos))
        return word

    _rewrite(q, note)
    return found


def typo_tolerant(q: str, spellings: Spellings | None = None) -> str:
    """q where each word that may have typos also matches the words it may have meant.

    With spellings (from the index), a word becomes `(word | spelling | …)`; without,
    Elasticsearch's fuzzy syntax `word~1` / `word~2` (the same matches, dearer to highlight).
    """

    def replace(word: str, typos: int) -> str:
        if spellings is None:
            return f"{word}~{typos}"
        others = [s for s in spellings.get(word.lower(), ()) if s != word.lower()]
        if not others:
            return word
        quoted = [s if _SAFE_TERM.match(s) else f'"{s}"' for s in others]
        return f"({' | '.join([word, *quoted])})"

    return _rewrite(q, replace)


def build_spelling_request(q: str) -> dict[str, Any] | None:
    """A size-0 request of term suggestions for q's words that may have typos; None if none."""
    suggest: dict[str, Any] = {}
    for i, (word, typos) in enumerate(typo_words(q)):
        for field in SPELLING_FIELDS:
            suggest[f"{i}:{field}"] = {
                "text": word,
                "term": {
                    "field": field,
                    "suggest_mode": "always",  # also for words that exist as typed
                    "max_edits": typos,
                    "prefix_length": FUZZY_PREFIX_LENGTH,
                    "min_word_length": ONE_TYPO_FROM,
                    "max_term_freq": 0.99,  # common words too (the default skips them)
                    "size": MAX_SPELLINGS,
                },
            }
    if not suggest:
        return None
    return {"size": 0, "track_total_hits": False, "suggest": suggest}


def parse_spellings(q: str, response: dict[str, Any]) -> Spellings:
    words = [word.lower() for word, _ in typo_words(q)]
    found: dict[str, dict[str, float]] = {w: {} for w in words}
    for name, entries in response.get("suggest", {}).items():
        word = words[int(name.split(":", 1)[0])]
        for entry in entries:
            for option in entry["options"]:
                best = found[word].get(option["text"], 0.0)
                found[word][option["text"]] = max(best, option["score"])
    return {
        word: tuple(sorted(options, key=lambda s: -options[s])[:MAX_SPELLINGS])
        for word, options in found.items()
    }


def find_spellings(es: Elasticsearch, index: str, q: str) -> Spellings:
    """What q's words may have meant, from the index (one request; none without such words)."""
    body = build_spelling_request(q)
    if body is None:
        return {}
    return parse_spellings(q, es.search(index=index, body=body).body)
