"""Exact dedupe: a content hash as the document id, claimed atomically across workers."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

import redis

_SPACE = re.compile(r"\s+")

# One round trip, atomic: record the source, and make the first source to arrive the owner.
# Two workers racing on the same content both see the same owner.
_CLAIM = """
redis.call('SADD', KEYS[2], ARGV[1])
local owner = redis.call('GET', KEYS[1])
if not owner then
  redis.call('SET', KEYS[1], ARGV[1])
  owner = ARGV[1]
end
return owner
"""


def content_id(body: str) -> str:
    """SHA-256 of the body with case, Unicode forms and whitespace normalised."""
    normal = _SPACE.sub(" ", unicodedata.normalize("NFKC", body).casefold()).strip()
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Claim:
    owner: str
    is_owner: bool


class ContentRegistry:
    """Which sources delivered which content, and which of them processes it."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.r = client
        self.prefix = prefix
        self._claim = client.register_script(_CLAIM)

    def _owner_key(self, doc_id: str) -> str:
        return f"{self.prefix}content:{doc_id}:owner"

    def _sources_key(self, doc_id: str) -> str:
        return f"{self.prefix}content:{doc_id}:sources"

    def claim(self, doc_id: str, source: str) -> Claim:
        owner = self._claim(
            keys=[self._owner_key(doc_id), self._sources_key(doc_id)], args=[source]
        )
        owner = owner.decode() if isinstance(owner, bytes) else str(owner)
        return Claim(owner=owner, is_owner=owner == source)

    def sources(self, doc_id: str) -> list[str]:
        return sorted(self.r.smembers(self._sources_key(doc_id)))  # type: ignore[arg-type]
