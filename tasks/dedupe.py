"""Exact dedupe: a content hash as the document id, claimed atomically across workers."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
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


def content_id(body: str, *, piece_chars: int = 1 << 20) -> str:
    """SHA-256 of the body with case, Unicode forms and whitespace normalised.

    The hash of `" ".join(NFKC(body).casefold().split())`, fed piece by piece.
    """
    digest = hashlib.sha256()
    first = True
    for piece in _pieces(body, piece_chars):
        words = unicodedata.normalize("NFKC", piece).casefold().split()
        if words:
            digest.update(("" if first else " ").encode() + " ".join(words).encode("utf-8"))
            first = False
    return digest.hexdigest()


def _pieces(text: str, size: int) -> Iterator[str]:
    """`text` in pieces of about `size` characters, each after the first cut before a space.

    A whitespace character composes with nothing before it, so normalising piece by piece
    gives what normalising the whole does; and no word spans two pieces. Memory follows the
    piece (normalising a 30 MB body whole peaked at 340 MB).
    """
    start = 0
    while start < len(text):
        found = _SPACE.search(text, start + size) if start + size < len(text) else None
        end = found.start() if found else len(text)
        yield text[start:end]
        start = end


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
