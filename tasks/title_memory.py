"""Per-site title affixes, learned in Redis: what most of a site's titles begin or end with.

Each document of a site counts the first and last segment of its title (when it has
separators); a segment seen in at least `min_docs` of the site's titles, and in `min_share` of
them, is the site's name from then on and is taken off its titles (tasks.titles). Counts live
in one hash per site, capped and expiring, so memory stays bounded.
"""

from __future__ import annotations

import redis

from tasks.document import Document
from tasks.redis_scripts import lua
from tasks.titles import affixes, clean_title

_COUNT = lua(__name__, "count")


class SiteTitles:
    """Takes the site's name off titles, learning each site's affixes as documents arrive."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        *,
        min_docs: int = 3,
        min_share: float = 0.3,
        ttl_seconds: int = 90 * 86400,
        max_affixes: int = 2000,
    ) -> None:
        self.r = client
        self.prefix = prefix
        self.min_docs = min_docs
        self.min_share = min_share
        self.ttl = ttl_seconds
        self.max_affixes = max_affixes
        self._count = client.register_script(_COUNT)

    def _key(self, site: str) -> str:
        return f"{self.prefix}titles:{site}"

    def learn(self, site: str, title: str) -> list[str]:
        """Count this title's affixes for the site; returns the site's affixes among them."""
        found = affixes(title)
        if found is None:
            return []
        fields = [f"p:{found[0]}" if found[0] else "", f"s:{found[1]}" if found[1] else ""]
        fields = [f for f in fields if f]
        if not fields:
            return []
        *counts, docs = self._count(
            keys=[self._key(site)], args=[self.ttl, self.max_affixes, *fields]
        )
        return [
            field[2:]
            for field, n in zip(fields, counts, strict=True)
            if int(n) >= self.min_docs and int(n) >= self.min_share * int(docs)
        ]

    def apply(self, doc: Document) -> Document:
        """The document with a clean title, and the title it had in `title_original`."""
        if not doc.title:
            return doc
        learned = self.learn(doc.site, doc.title) if doc.site else []
        title = clean_title(doc.title, doc.title_hints, doc.site, learned)
        if title == doc.title:
            return doc
        return doc.replace(title=title, title_original=doc.title)
