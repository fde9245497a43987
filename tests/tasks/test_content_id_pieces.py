"""content_id hashes a big body piece by piece: the id must be the one of the whole text."""

from __future__ import annotations

import hashlib
import random
import unicodedata

import pytest

from tasks.dedupe import content_id

# Whitespace of several kinds, compatibility forms that NFKC turns into a space plus a mark
# (¨ ´), combining marks, ligatures, Hangul jamo that compose, fullwidth letters, ß.
ALPHABET = list(
    "abc ДЖ é\u0301\u00a8\u00b4\u00a0\u2007\u3000\n\t\u2028\u0085\ufb01ß\u212b"
    "\u1100\u1161\u11a8\uac00①⑴ﬀ\u180e\u200b\uff21\x1c\x1d\x1e\x1f"
)


def whole(body: str) -> str:
    """The definition: normalise the whole text at once, then hash it."""
    normal = " ".join(unicodedata.normalize("NFKC", body).casefold().split())
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("piece_chars", [1, 2, 3, 5, 8, 64])
def test_pieces_give_the_id_of_the_whole_text(piece_chars: int) -> None:
    rng = random.Random(piece_chars)
    for _ in range(3000):
        body = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 60)))
        assert content_id(body, piece_chars=piece_chars) == whole(body), repr(body)


def test_a_big_body_has_the_id_of_the_whole_text() -> None:
    body = " ".join(f"Word{n} ﬁne  Straße\n\n" for n in range(300_000))
    assert len(body) > 3 * (1 << 20)
    assert content_id(body) == whole(body)
