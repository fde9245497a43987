"""One name per entity: spelling variants by an alias table, surnames into the full name."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from tasks.enrichers.mentions import Mention, read_lines


@cache
def _aliases() -> dict[str, str]:
    """variant -> canonical, from data/aliases.txt."""
    table = {}
    for line in read_lines("aliases.txt"):
        variant, _, canonical = line.partition("=>")
        table[variant.strip()] = canonical.strip()
    return table


def canonical(text: str, kind: str) -> str:
    """The table's form of a name; in person names each word is looked up too."""
    table = _aliases()
    if text in table:
        return table[text]
    if kind == "person":
        # "Volodymyr Zelensky" -> "Volodymyr Zelenskyy"; only in person names, where a word is a
        # name part (in "US Army" the whole-name alias "US" must not apply word by word).
        return " ".join(table.get(word, word) for word in text.split())
    return text


def merge_names(mentions: Iterable[Mention]) -> list[Mention]:
    """Mentions renamed to canonical forms, and surname-only mentions to the full name."""
    renamed = [Mention(canonical(m.text, m.kind), m.kind, m.start, m.end) for m in mentions]
    full_names = [m.text for m in renamed if m.kind == "person" and " " in m.text]
    by_surname: dict[str, set[str]] = {}
    for name in full_names:
        by_surname.setdefault(name.split()[-1], set()).add(name)
    out = []
    for mention in renamed:
        owners = by_surname.get(mention.text, set())
        if len(owners) == 1:
            # "Zelenskyy said..." after "Volodymyr Zelenskyy": the same person, even where
            # the model called the lone surname an organisation. Two people with one surname:
            # ambiguous, left as found.
            mention = Mention(next(iter(owners)), "person", mention.start, mention.end)
        out.append(mention)
    return out
