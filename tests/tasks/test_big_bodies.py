"""Per-document steps on bodies far bigger than an article: same results, bounded memory."""

from __future__ import annotations

import tracemalloc

import numpy as np

from tasks.enrichers.keywords import MAX_CHARS, MemoryFrequencies, corpus_statistics, keywords
from tasks.enrichers.language import detect_language
from tasks.enrichers.stats import word_count
from tasks.neardup import _A, _B, _TOP32, _lazy_tokens, array_signature, shingle_array
from tests.support.files import big_text


def test_a_signature_in_blocks_is_the_signature_of_all_the_shingles_at_once() -> None:
    hashes = np.random.default_rng(3).integers(0, 2**64, size=100_000, dtype=np.uint64)
    x = hashes ^ (hashes >> np.uint64(30))
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    at_once = ((np.multiply.outer(x, _A) + _B) >> _TOP32).min(axis=0)
    assert array_signature(hashes) == tuple(at_once.tolist())


def test_a_big_body_is_tokenised_as_str_split_does() -> None:
    text = " a\u00a0b\u2003c\u3000d\te\nf\x1cg\u2028h\u200bi  ﬁj\u0085k " * 1000
    assert list(_lazy_tokens(text)) == text.split()


def _peak_mib(step: object, *args: object) -> float:
    tracemalloc.start()
    try:
        step(*args)  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1] / (1 << 20)
    finally:
        tracemalloc.stop()


def test_shingling_a_5_mb_body_does_not_list_its_words_first() -> None:
    body = big_text(5 << 20)
    # The hashes themselves (8 bytes a word) and one signature block, not a list of words.
    assert _peak_mib(shingle_array, body) < 25  # 11 MB; listing the words first took 51
    assert _peak_mib(lambda b: array_signature(shingle_array(b)), body) < 120  # 67; was 700


def test_language_and_word_count_of_a_5_mb_body_take_little_memory() -> None:
    body = big_text(5 << 20)
    assert detect_language(body) == "en"
    assert _peak_mib(detect_language, body) < 5
    assert word_count(body) == len(body.split())
    assert _peak_mib(word_count, body) < 5


def test_keywords_read_a_huge_body_only_up_to_the_cap() -> None:
    head = big_text(MAX_CHARS, seed=1)[:MAX_CHARS]
    # Each with corpus statistics of its own: the counts one call adds would move the other's.
    with corpus_statistics(MemoryFrequencies()):
        whole = keywords(head + big_text(2 << 20, seed=2), "en")
    with corpus_statistics(MemoryFrequencies()):
        capped = keywords(head, "en")
    assert whole == capped
