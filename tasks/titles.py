"""Titles without the site's name: " - SFGate", " | WIRED", "The New York Times - ".

A page's <title> carries the site's name as an affix set off by a separator. It is taken off
when it names the site: as the page's own metadata says (og:site_name), as its host does
(sfgate.com), or as learned from the affix the site's titles share (tasks.title_memory). When
an item's title is the page's <title>, the page's headline (og:title, <h1>) is preferred if it
is the same headline. A title is never stripped down to nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

# " - ", " | ", " – ", " — ", " :: ", " · ", " • ", " » ", " -- ": spaced, so "Dallas-Fort
# Worth" or "9to5Mac" are never cut.
SEPARATOR = re.compile(r"\s+(?:[|–—·•»]|-{1,2}|::)\s+")
# An affix longer than this is a part of the headline, not a name.
MAX_AFFIX_WORDS = 6
# A headline shares at least this share of its words with the <title> it stands for.
_SAME_HEADLINE = 0.6
_WORD = re.compile(r"\w+")
# Hosts' labels that name no site.
_GENERIC_LABELS = frozenset({"www", "m", "amp", "news", "com", "org", "net", "co", "uk"})


def normal(text: str) -> str:
    """Letters and digits only, case-folded: "The New York Times" -> "thenewyorktimes"."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def _words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def site_names(site: str | None, site_name: str | None) -> list[str]:
    """What the site is called: its og:site_name, and its host's distinctive label."""
    names = [site_name] if site_name else []
    if site:
        labels = [label for label in site.lower().split(".") if label not in _GENERIC_LABELS]
        names.extend(labels[:1])
        names.append(site)
    return [n for n in names if normal(n)]


def names_site(affix: str, names: Iterable[str]) -> bool:
    """Whether an affix is the site's name ("CNBC", "Space.com", "CNNPolitics" for CNN)."""
    key = normal(affix)
    if not key:
        return False
    for name in names:
        other = normal(name)
        if not other:
            continue
        if key == other:
            return True
        shorter, longer = sorted((key, other), key=len)
        # "cnnpolitics" / "cnn", "cbssportscom" / "cbssports": one begins with the other.
        if len(shorter) >= 3 and longer.startswith(shorter):
            return True
    return False


def _affix_words(text: str) -> int:
    return len(text.split())


def strip_site(title: str, names: Iterable[str], learned: Iterable[str] = ()) -> str:
    """The title without the site's name at either end; the title itself if nothing is left.

    `names` are compared loosely (case, spaces and punctuation aside); `learned` are affixes
    the site's titles share (normalised), which go whole.
    """
    names = list(names)
    known = {normal(a) for a in learned}
    stripped = title.strip()
    while True:
        parts = SEPARATOR.split(stripped)
        if len(parts) < 2:
            return stripped
        cut = _strip_once(stripped, parts, names, known)
        if cut is None or not _words(cut):
            return stripped
        stripped = cut


def _strip_once(title: str, parts: list[str], names: list[str], known: set[str]) -> str | None:
    """The title with one affix (the longest that names the site) taken off, or None."""
    spans = [m.span() for m in SEPARATOR.finditer(title)]
    # Suffixes: what follows each separator; prefixes: what precedes it. Longest first.
    for start, end in spans:
        affix = title[end:]
        if _affix_words(affix) <= MAX_AFFIX_WORDS and (
            normal(affix) in known or names_site(affix, names)
        ):
            return title[:start].strip()
    # A prefix must be the name itself: "CNN's report - ..." is a headline, not "CNN".
    exact = {normal(n) for n in names} | known
    for start, end in reversed(spans):
        if normal(title[:start]) in exact:
            return title[end:].strip()
    return None


def affixes(title: str) -> tuple[str, str] | None:
    """(first, last) segment of a title with separators, normalised: what a site may repeat."""
    parts = SEPARATOR.split(title.strip())
    if len(parts) < 2:
        return None
    first, last = parts[0], parts[-1]
    return (
        normal(first) if _affix_words(first) <= MAX_AFFIX_WORDS else "",
        normal(last) if _affix_words(last) <= MAX_AFFIX_WORDS else "",
    )


def headline(title: str, hints: Mapping[str, str]) -> str:
    """The page's headline instead of its <title>, when the title is the <title>.

    The og:title or <h1> is taken only when most of its words are in the <title> (an <h1>
    reading "Games" or the site's name is no headline).
    """
    page_title = hints.get("page_title")
    if not page_title or normal(page_title) != normal(title):
        return title
    words = set(_words(page_title))
    for name in ("og_title", "h1"):
        candidate = hints.get(name, "").strip()
        mine = _words(candidate)
        if mine and sum(w in words for w in mine) >= _SAME_HEADLINE * len(mine):
            return candidate
    return title


def clean_title(
    title: str,
    hints: Mapping[str, str],
    site: str | None,
    learned: Iterable[str] = (),
) -> str:
    """The headline of a title: the page's own if it is one, without the site's name."""
    names = site_names(site, hints.get("site_name"))
    return strip_site(headline(title, hints), names, learned)
