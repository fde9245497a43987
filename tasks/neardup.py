"""Near-duplicate detection: MinHash over word 5-grams, LSH bands claimed atomically in Redis.

Redis layout (P = the index prefix + "nd2:"; the 2 is the hash family, so signatures made
by another never meet), every key expiring `horizon_seconds` after its
last write:

- ``P s:<ref>`` (string): one record per document, ``<ref>`` a 63-bit hash of its doc id:
  1 byte (slots equal to the cluster's match, 0 when canonical), the packed signature
  (112 × 4 bytes), the doc id, a NUL, and the cluster id (empty when canonical).
- ``P b:<depth>:<bits>`` (hash): LSH band table, field = a 52-bit band hash, value = the
  owner's ref. Bands share small buckets (listpack-encoded, ~20 bytes an entry, where a key
  per band costs ~130) chosen by the low `depth` bits of the band hash; a bucket that fills
  up splits in two (extendible hashing), so the fill, and memory per document, stay flat
  from a few thousand to millions of documents.
- ``P depth`` (string): the deepest bucket depth in use.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
import redis

from tasks.redis_scripts import lua
from tasks.replies import as_text

BANDS = 14
ROWS = 8
PERMUTATIONS = BANDS * ROWS
SHINGLE_WORDS = 5
DEFAULT_MARGIN = 0.1
DEFAULT_THRESHOLD = 0.8
DEFAULT_HORIZON_SECONDS = 90 * 86400
# A bucket splits once it holds this many bands: below Redis' default listpack limit (128),
# so buckets keep the compact encoding whatever the server's setting.
BUCKET_FILL = 100

# Multiply-shift hashing: slot k of a shingle hash x is the top 32 bits of
# (A[k] * x + B[k]) mod 2**64, with A odd. uint64 arithmetic wraps, so a signature needs no
# division (the mod-prime family costs 2.5 times as much here); every slot fits in 4 bytes.
_SEED = 0x6E656172  # "near": fixed, so signatures compare across processes and releases
_rng = np.random.default_rng(_SEED)
_A = _rng.integers(0, 2**64, size=PERMUTATIONS, dtype=np.uint64) | np.uint64(1)
_B = _rng.integers(0, 2**64, size=PERMUTATIONS, dtype=np.uint64)
_TOP32 = np.uint64(32)
# Shingles hashed per block in array_signature: 32,768 x 112 slots x 8 bytes = 29 MB.
_SIGNATURE_BLOCK = 1 << 15
_EMPTY_SLOT = 0xFFFFFFFF  # the minimum of nothing (a real slot equals it with chance 2**-32)
# Odd multiplier for combining word hashes into shingle hashes (wraps mod 2**64).
_MIX = np.uint64(0x9E3779B97F4A7C15)

_DIGIT = re.compile(r"\d")
# A word is a run of letters and digits: punctuation and "_" (which \w keeps) separate
# words, so "incident.The" is two.
_WORD = re.compile(r"[^\W_]+")
_TOKEN = re.compile(r"\S+")  # what str.split() splits into
_LIST_TOKENS_UP_TO = 1 << 20  # characters

U64Array = npt.NDArray[np.uint64]


def words(text: str) -> list[str]:
    """The normalised words of `text`: lowercase, digits to 0, punctuation stripped."""
    return _WORD.findall(_DIGIT.sub("0", text.lower()))


def normalise(text: str) -> str:
    """Lowercase, digits to 0, punctuation stripped, whitespace collapsed."""
    return " ".join(words(text))


_token_hashes: dict[str, tuple[int, ...]] = {}
_TOKEN_CACHE = 1 << 16


def _token_hashes_of(token: str) -> tuple[int, ...]:
    """64-bit hashes of the normalised words in one whitespace-separated token.

    Cached by the raw token: news vocabulary repeats, so most tokens skip the regexes and
    blake2b, which are the bulk of the shingling cost.
    """
    found = _token_hashes.get(token)
    if found is None:
        if len(_token_hashes) >= _TOKEN_CACHE:
            _token_hashes.clear()
        found = tuple(
            int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")
            for word in words(token)
        )
        _token_hashes[token] = found
    return found


def _lazy_tokens(text: str) -> Iterator[str]:
    """What text.split() gives, one token at a time."""
    return (m.group() for m in _TOKEN.finditer(text))


def shingle_array(text: str) -> U64Array:
    """64-bit hashes of the word 5-grams of `text` (duplicates kept)."""
    # A big body's tokens one at a time: text.split() would list them all first (250 MB for
    # a 30 MB body); for an article's few thousand, listing them is the faster way.
    tokens = text.split() if len(text) <= _LIST_TOKENS_UP_TO else _lazy_tokens(text)
    hashes = np.fromiter(chain.from_iterable(map(_token_hashes_of, tokens)), dtype=np.uint64)
    if not hashes.size:
        return hashes
    # A text shorter than a shingle is one shingle of all its words.
    span = min(SHINGLE_WORDS, hashes.size)
    count = hashes.size - span + 1
    acc = hashes[:count].copy()
    for k in range(1, span):
        acc *= _MIX
        acc += hashes[k : k + count]
    return acc


def shingles(text: str) -> set[int]:
    """The set of 64-bit hashes of the normalised word 5-grams of `text`."""
    return set(shingle_array(text).tolist())


def array_signature(hashes: U64Array) -> tuple[int, ...]:
    """MinHash signature (112 slots, each < 2**32) of an array of shingle hashes.

    Duplicates do not change a minimum, so the array need not be a set.
    """
    if hashes.size == 0:
        return (_EMPTY_SLOT,) * PERMUTATIONS
    # splitmix64's finaliser first: multiply-shift wants well-spread input, and the hashes
    # may be anything (small integers, a polynomial's structured output).
    x = hashes ^ (hashes >> np.uint64(30))
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    # outer() rather than broadcasting x[:, None] * _A: several times faster here. In blocks,
    # so memory is bounded by the block (29 MB), not by the text (112 slots of 8 bytes per
    # shingle: 4.5 GB for a 30 MB body at once).
    lowest = np.full(PERMUTATIONS, np.iinfo(np.uint64).max, dtype=np.uint64)
    for start in range(0, x.size, _SIGNATURE_BLOCK):
        values = np.multiply.outer(x[start : start + _SIGNATURE_BLOCK], _A)
        values += _B
        values >>= _TOP32
        np.minimum(lowest, values.min(axis=0), out=lowest)
    return tuple(lowest.tolist())


def signature(shingle_set: set[int]) -> tuple[int, ...]:
    """MinHash signature (112 slots, each < 2**32) of a set of shingle hashes."""
    return array_signature(np.fromiter(shingle_set, dtype=np.uint64, count=len(shingle_set)))


def text_signature(text: str) -> tuple[int, ...]:
    """signature(shingles(text)), without building the Python set."""
    return array_signature(shingle_array(text))


def estimate(sig_a: tuple[int, ...], sig_b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity: the fraction of equal signature slots."""
    if len(sig_a) != len(sig_b) or not sig_a:
        raise ValueError("signatures of different lengths")
    return sum(a == b for a, b in zip(sig_a, sig_b, strict=True)) / len(sig_a)


def jaccard(sh_a: set[int], sh_b: set[int]) -> float:
    """Exact Jaccard similarity of two shingle sets (1.0 for two empty sets)."""
    if not sh_a and not sh_b:
        return 1.0
    return len(sh_a & sh_b) / len(sh_a | sh_b)


def compare(text_a: str, text_b: str, threshold: float = DEFAULT_THRESHOLD) -> dict[str, Any]:
    """Estimated and exact Jaccard of two texts, and a verdict."""
    sh_a, sh_b = shingles(text_a), shingles(text_b)
    exact = jaccard(sh_a, sh_b)
    if normalise(text_a) == normalise(text_b):
        verdict = "duplicate"
    elif exact >= threshold:
        verdict = "near-duplicate"
    else:
        verdict = "unrelated"
    return {
        "estimated": estimate(signature(sh_a), signature(sh_b)),
        "exact": exact,
        "verdict": verdict,
        "threshold": threshold,
    }


def pack(sig: tuple[int, ...]) -> bytes:
    """A signature as little-endian 4-byte unsigned ints."""
    return np.asarray(sig, dtype="<u4").tobytes()


def band_hashes(sig: tuple[int, ...]) -> list[int]:
    """One 52-bit hash per band (the band index included, so bands never collide)."""
    packed = pack(sig)
    width = ROWS * 4
    return [
        int.from_bytes(
            hashlib.blake2b(
                packed[i * width : (i + 1) * width], digest_size=8, salt=bytes([i])
            ).digest(),
            "little",
        )
        >> 12  # 52 bits: exact as a Lua number, which routes it to a bucket
        for i in range(BANDS)
    ]


def doc_ref(doc_id: str) -> int:
    """A 63-bit reference to a document: short in the band buckets, where ids would not be."""
    return int.from_bytes(hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest()) >> 1


_CLAIM = lua(__name__, "common", "claim")
_CANONICAL = lua(__name__, "canonical")
_READ = lua(__name__, "read")
_FORGET = lua(__name__, "common", "forget")


@dataclass(frozen=True)
class NearDup:
    """Where a document landed: its cluster, whether it leads it, and how close it is."""

    cluster_id: str
    canonical: bool
    similarity: float | None


class NearDupIndex:
    """MinHash LSH index in Redis: one atomic script call claims a document's bands."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        horizon_seconds: int = DEFAULT_HORIZON_SECONDS,
        margin: float = DEFAULT_MARGIN,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], not {threshold}")
        self.r = client
        self.prefix = prefix
        self.threshold = threshold
        self.margin = margin
        self.horizon_seconds = int(horizon_seconds)
        # Slots that must agree for a provisional match: the estimate spreads by about 0.04,
        # so the script accepts from `margin` below the threshold, and claim_confirmed checks
        # every match that is not clear by the exact Jaccard.
        self._need = math.ceil((threshold - margin) * PERMUTATIONS - 1e-9)
        self._claim = client.register_script(_CLAIM)
        self._canonical = client.register_script(_CANONICAL)
        self._read = client.register_script(_READ)
        self._forget = client.register_script(_FORGET)

    @property
    def key_prefix(self) -> str:
        """Prefix of every key this index writes."""
        return f"{self.prefix}nd2:"

    def claim_args(self, doc_id: str, sig: tuple[int, ...]) -> list[Any]:
        """The claim script's ARGV (for pipelines: `claim_script(args=...)`)."""
        if "\0" in doc_id:
            raise ValueError("doc id must not contain NUL")
        if len(sig) != PERMUTATIONS:
            raise ValueError(f"signature has {len(sig)} slots, expected {PERMUTATIONS}")
        return [
            self.key_prefix,
            self.horizon_seconds,
            doc_ref(doc_id),
            doc_id,
            pack(sig),
            self._need,
            BUCKET_FILL,
            *band_hashes(sig),
        ]

    @property
    def claim_script(self) -> Any:
        """The registered claim script (for pipelined bulk loads)."""
        return self._claim

    def decode(self, doc_id: str, reply: Any) -> NearDup:
        """A claim script reply as a NearDup."""
        cluster, equal = as_text(reply[0]), int(reply[1])
        if not cluster:
            return NearDup(cluster_id=doc_id, canonical=True, similarity=None)
        return NearDup(cluster_id=cluster, canonical=False, similarity=equal / PERMUTATIONS)

    def claim(self, doc_id: str, sig: tuple[int, ...]) -> NearDup:
        """Record `doc_id` and return its cluster: an earlier near-copy's, or its own."""
        if all(slot == _EMPTY_SLOT for slot in sig):
            # No words, no shingles: nothing to compare, and empty texts are not near-copies.
            return NearDup(cluster_id=doc_id, canonical=True, similarity=None)
        return self.decode(doc_id, self._claim(args=self.claim_args(doc_id, sig)))

    def claim_confirmed(
        self,
        doc_id: str,
        shingle_set: set[int],
        canonical_shingles: Callable[[str], set[int] | None],
    ) -> NearDup:
        """Claim, then confirm a match near the threshold by the exact Jaccard.

        `canonical_shingles(cluster_id)` gives the canonical document's shingles, or None when
        it cannot be had (not indexed yet): then the estimate decides, as in `claim`.
        """
        found = self.claim(doc_id, signature(shingle_set))
        if found.canonical or found.similarity is None:
            return found
        if found.similarity >= self.threshold + self.margin:
            return found  # clear by the estimate alone
        other = canonical_shingles(found.cluster_id)
        exact = jaccard(shingle_set, other) if other is not None else None
        if exact is not None and exact >= self.threshold:
            return NearDup(cluster_id=found.cluster_id, canonical=False, similarity=exact)
        if exact is None and found.similarity >= self.threshold:
            return found
        self._canonical(args=self._doc_args(doc_id))
        return NearDup(cluster_id=doc_id, canonical=True, similarity=None)

    def claim_confirmed_many(
        self,
        docs: Sequence[tuple[str, set[int]]],
        canonical_shingles: Callable[[set[str]], dict[str, set[int] | None]],
    ) -> list[NearDup]:
        """claim_confirmed for a batch, in order: claims in one round trip, the canonicals
        to confirm against read at once (`canonical_shingles(ids)`), corrections in one more.
        """
        sigs = [(doc_id, signature(shingle_set)) for doc_id, shingle_set in docs]
        pipe = self.r.pipeline(transaction=False)
        claimed = [i for i, (_, sig) in enumerate(sigs) if any(s != _EMPTY_SLOT for s in sig)]
        for i in claimed:
            self._claim(args=self.claim_args(*sigs[i]), client=pipe)
        found = [NearDup(cluster_id=doc_id, canonical=True, similarity=None) for doc_id, _ in docs]
        for i, reply in zip(claimed, pipe.execute() if claimed else [], strict=True):
            found[i] = self.decode(docs[i][0], reply)
        unclear = [
            i
            for i, f in enumerate(found)
            if not f.canonical
            and f.similarity is not None
            and f.similarity < self.threshold + self.margin
        ]
        others = canonical_shingles({found[i].cluster_id for i in unclear}) if unclear else {}
        rejected = []
        for i in unclear:
            other = others.get(found[i].cluster_id)
            exact = jaccard(docs[i][1], other) if other is not None else None
            if exact is not None and exact >= self.threshold:
                found[i] = NearDup(found[i].cluster_id, canonical=False, similarity=exact)
            elif exact is not None or found[i].similarity < self.threshold:  # type: ignore[operator]
                rejected.append(i)
                found[i] = NearDup(cluster_id=docs[i][0], canonical=True, similarity=None)
        if rejected:
            pipe = self.r.pipeline(transaction=False)
            for i in rejected:
                self._canonical(args=self._doc_args(docs[i][0]), client=pipe)
            pipe.execute()
        return found

    def _doc_args(self, doc_id: str) -> list[str | int]:
        return [self.key_prefix, self.horizon_seconds, doc_ref(doc_id), doc_id, PERMUTATIONS]

    def stored_signature(self, doc_id: str) -> tuple[int, ...] | None:
        """The signature stored for `doc_id`, or None."""
        slots = self._read(args=self._doc_args(doc_id))
        return tuple(int(s) for s in slots) if slots else None

    def forget(self, doc_id: str) -> bool:
        """Delete the document's signature and the bands it still owns; False if unknown."""
        sig = self.stored_signature(doc_id)
        if sig is None:
            return False
        self._forget(args=[*self._doc_args(doc_id), *band_hashes(sig)])
        return True
