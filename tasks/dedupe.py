"""Exact dedupe: a content hash as the document id, claimed atomically across workers."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

import redis

from tasks.replies import as_text

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


# The reverse, atomic too: drop a source; if it was the owner, hand ownership to a remaining
# source (or free the content). Returns how many sources remain.
_RELEASE = """
redis.call('SREM', KEYS[2], ARGV[1])
local remaining = redis.call('SCARD', KEYS[2])
if redis.call('GET', KEYS[1]) == ARGV[1] then
  if remaining > 0 then
    redis.call('SET', KEYS[1], redis.call('SRANDMEMBER', KEYS[2]))
  else
    redis.call('DEL', KEYS[1])
  end
end
return remaining
"""


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
        self._release = client.register_script(_RELEASE)

    def _owner_key(self, doc_id: str) -> str:
        return f"{self.prefix}content:{doc_id}:owner"

    def _sources_key(self, doc_id: str) -> str:
        return f"{self.prefix}content:{doc_id}:sources"

    def claim(self, doc_id: str, source: str) -> Claim:
        owner = self._claim(
            keys=[self._owner_key(doc_id), self._sources_key(doc_id)], args=[source]
        )
        owner = as_text(owner)
        return Claim(owner=owner, is_owner=owner == source)

    def sources(self, doc_id: str) -> list[str]:
        return sorted(self.r.smembers(self._sources_key(doc_id)))  # type: ignore[arg-type]

    def release(self, doc_id: str, source: str) -> int:
        """Forget that `source` delivered this content; returns how many sources remain."""
        keys = [self._owner_key(doc_id), self._sources_key(doc_id)]
        return int(self._release(keys=keys, args=[source]))
