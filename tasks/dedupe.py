"""Exact dedupe: a content hash as the document id, claimed atomically across workers."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import redis

from tasks.errors import Transient
from tasks.redis_scripts import lua
from tasks.replies import as_text

_SPACE = re.compile(r"\s+")

# Marks content whose last source was released and whose document is being deleted.
_DELETING = "\0deleting:"

_CLAIM = lua(__name__, "claim")


def content_id(body: str, version: str = "", *, piece_chars: int = 1 << 20) -> str:
    """SHA-256 of the body with case, Unicode forms and whitespace normalised.

    The hash of `" ".join(NFKC(body).casefold().split())`, fed piece by piece. `version`
    names the rules that made the body (the cleaner's version), so the same text cleaned by
    other rules is another document.
    """
    digest = hashlib.sha256()
    if version:
        digest.update(f"v{version}\x1f".encode())
    first = True
    for piece in _pieces(body, piece_chars):
        words = unicodedata.normalize("NFKC", piece).casefold().split()
        if words:
            digest.update(
                ("" if first else " ").encode() + " ".join(words).encode("utf-8", "surrogatepass")
            )
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


_RELEASE = lua(__name__, "release")
_DELETED = lua(__name__, "deleted")


class ContentBusy(Transient):
    """The content's document is being deleted right now; claim it again in a moment."""


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
        self._deleted = client.register_script(_DELETED)

    def _owner_key(self, doc_id: str) -> str:
        return f"{self.prefix}content:{doc_id}:owner"

    def _sources_key(self, doc_id: str) -> str:
        return f"{self.prefix}content:{doc_id}:sources"

    def claim(self, doc_id: str, source: str) -> Claim:
        """Record `source` for the content; ContentBusy while its document is being deleted."""
        owner = self._claim(
            keys=[self._owner_key(doc_id), self._sources_key(doc_id)], args=[source, _DELETING]
        )
        if owner is None:
            raise ContentBusy(f"content {doc_id[:16]} is being deleted; claimed again later")
        owner = as_text(owner)
        return Claim(owner=owner, is_owner=owner == source)

    def claim_many(
        self, pairs: Sequence[tuple[str, str]], pipe: redis.client.Pipeline | None = None
    ) -> list[Claim]:
        """`claim` for several (doc id, source) pairs, in order, in one round trip.

        `pipe` may hold commands queued before (the ledger's write-ahead): they run first.
        """
        pipe = pipe if pipe is not None else self.r.pipeline(transaction=False)
        for doc_id, source in pairs:
            self._claim(
                keys=[self._owner_key(doc_id), self._sources_key(doc_id)],
                args=[source, _DELETING],
                client=pipe,
            )
        replies = pipe.execute()
        replies = replies[len(replies) - len(pairs) :]
        claims = []
        for (doc_id, source), owner in zip(pairs, replies, strict=True):
            if owner is None:
                raise ContentBusy(f"content {doc_id[:16]} is being deleted; claimed again later")
            claims.append(Claim(owner=as_text(owner), is_owner=as_text(owner) == source))
        return claims

    def sources(self, doc_id: str) -> list[str]:
        return sorted(self.r.smembers(self._sources_key(doc_id)))  # type: ignore[arg-type]

    def sources_many(self, doc_ids: Iterable[str]) -> dict[str, list[str]]:
        """`sources` of several contents in one round trip."""
        ids = sorted(set(doc_ids))
        pipe = self.r.pipeline(transaction=False)
        for doc_id in ids:
            pipe.smembers(self._sources_key(doc_id))
        found = pipe.execute() if ids else []
        return {i: sorted(map(as_text, s)) for i, s in zip(ids, found, strict=True)}

    def release(self, doc_id: str, source: str, mark: str, mark_ms: int = 60_000) -> int:
        """Forget that `source` delivered this content; returns how many sources remain.

        At zero the content stays marked by `mark` (for `mark_ms` at most, should the caller
        die) until `deleted(doc_id, mark)` says its document is gone.
        """
        keys = [self._owner_key(doc_id), self._sources_key(doc_id)]
        return int(self._release(keys=keys, args=[source, f"{_DELETING}{mark}", mark_ms]))

    def deleted(self, doc_id: str, mark: str) -> None:
        """The document of released content is deleted: the content may be claimed again."""
        self._deleted(keys=[self._owner_key(doc_id)], args=[f"{_DELETING}{mark}"])
