"""Unit tests for near-duplicate signatures: normalisation, stability, accuracy, the seeds."""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.clean import clean
from tasks.extract import read_file
from tasks.neardup import (
    BANDS,
    PERMUTATIONS,
    ROWS,
    band_hashes,
    compare,
    doc_ref,
    estimate,
    jaccard,
    normalise,
    pack,
    shingles,
    signature,
    text_signature,
)

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
SEED_000 = SEEDS / "000_2fa40668a4e6c1c4.txt"
SEED_003 = SEEDS / "003_0fcbdef7ffe9cfd8.txt"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def raw_text(path: Path) -> str:
    """The file's text as the pipeline extracts it."""
    return read_file(path, 10_000_000).documents[0].text


def cleaned_body(path: Path) -> str:
    """The file's body as the pipeline cleans it."""
    return clean(read_file(path, 10_000_000).documents[0]).body


def random_words(rng: random.Random, n: int) -> list[str]:
    """n words from a large made-up vocabulary: unrelated texts share almost no 5-grams."""
    return [
        "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 8))) for _ in range(n)
    ]


def edited(rng: random.Random, words: list[str], changes: int) -> list[str]:
    """A copy with `changes` words replaced at random places."""
    copy = list(words)
    for at in rng.sample(range(len(copy)), changes):
        copy[at] = "zz" + copy[at]
    return copy


# --- normalisation and shingles -----------------------------------------------------------------


def test_normalise_lowercases_zeroes_digits_strips_punctuation() -> None:
    """Case, digits, punctuation and whitespace runs do not tell texts apart."""
    assert normalise("Talks in  ISTANBUL,\n\n2 June 2025 — “low hopes”!") == (
        "talks in istanbul 0 june 0000 low hopes"
    )
    assert normalise("incident.The latest_news") == "incident the latest news"
    assert normalise("  \n ") == ""


def test_shingles_are_word_five_grams_of_the_normalised_text() -> None:
    """Seven words make three 5-grams; formatting differences make the same set."""
    assert len(shingles("one two three four five six seven")) == 3
    assert shingles("The 12 cats sat, quietly, on mats.") == shingles(
        "the 34 CATS sat quietly on mats"
    )
    assert shingles("The 12 cats sat quietly on mats") != shingles(
        "The 12 dogs sat quietly on mats"
    )


def test_short_and_empty_texts() -> None:
    """Under five words is one shingle; no words, no shingles."""
    assert len(shingles("just three words")) == 1
    assert shingles("") == set()
    assert shingles("!!! ...") == set()


def test_shingle_hashes_are_64_bit() -> None:
    hashes = shingles(" ".join(random_words(random.Random(1), 200)))
    assert len(hashes) == 196
    assert all(0 <= h < 2**64 for h in hashes)


# --- signatures -----------------------------------------------------------------------------------


def test_signature_shape_and_packing() -> None:
    """112 slots (14 bands × 8 rows), each a 4-byte unsigned int."""
    sig = signature(shingles(" ".join(random_words(random.Random(2), 300))))
    assert len(sig) == PERMUTATIONS == BANDS * ROWS == 112
    assert all(0 <= slot < 2**32 for slot in sig)
    assert len(pack(sig)) == 4 * PERMUTATIONS
    assert len(band_hashes(sig)) == BANDS
    assert all(0 <= h < 2**52 for h in band_hashes(sig))


def test_signature_is_deterministic_across_calls() -> None:
    text = " ".join(random_words(random.Random(3), 300))
    assert signature(shingles(text)) == signature(shingles(text)) == text_signature(text)


def test_signature_is_stable_across_processes() -> None:
    """A fresh interpreter with another hash seed computes the same signature (not hash())."""
    text = "Delegations from Ukraine and Russia met in Istanbul for a second round of talks"
    code = (
        "import sys; from tasks.neardup import text_signature, doc_ref; "
        "print(list(text_signature(sys.argv[1])), doc_ref('abc'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, text],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    ).stdout
    assert out.strip() == f"{list(text_signature(text))} {doc_ref('abc')}"


def test_identical_and_unrelated() -> None:
    """Identical texts estimate 1.0; unrelated texts about 0."""
    rng = random.Random(4)
    a, b = " ".join(random_words(rng, 400)), " ".join(random_words(rng, 400))
    assert estimate(text_signature(a), text_signature(a)) == 1.0
    assert estimate(text_signature(a), text_signature(b)) < 0.05
    assert jaccard(shingles(a), shingles(a)) == 1.0
    assert jaccard(shingles(a), shingles(b)) < 0.01


def test_estimate_tracks_exact_jaccard_on_planted_pairs() -> None:
    """Across planted pairs from J≈0.3 to 0.99 the estimate errs by ~1/√112 at most."""
    rng = random.Random(5)
    errors = []
    for changes in (1, 2, 4, 8, 12, 16, 20, 25, 30, 40) * 3:
        words = random_words(rng, 500)
        a, b = " ".join(words), " ".join(edited(rng, words, changes))
        exact = jaccard(shingles(a), shingles(b))
        errors.append(estimate(text_signature(a), text_signature(b)) - exact)
    assert max(abs(e) for e in errors) <= 0.15
    assert statistics.fmean(abs(e) for e in errors) <= 0.04
    # No bias: the estimator is unbiased, so errors average out.
    assert abs(statistics.fmean(errors)) <= 0.02


def test_estimate_rejects_mismatched_signatures() -> None:
    with pytest.raises(ValueError):
        estimate((1, 2), (1, 2, 3))


# --- the two seeds ------------------------------------------------------------------------------


def test_the_two_seeds_are_not_near_duplicates() -> None:
    """Same story, different outlets' wording: Jaccard ≈ 0.01, both stay."""
    a, b = cleaned_body(SEED_000), cleaned_body(SEED_003)
    exact = jaccard(shingles(a), shingles(b))
    assert exact < 0.03
    assert estimate(text_signature(a), text_signature(b)) < 0.1
    assert compare(a, b)["verdict"] == "unrelated"


def test_seed_000_once_vs_doubled_is_a_near_duplicate() -> None:
    """000 as scraped (body twice) against its cleaned body (once): J ≈ 0.87."""
    raw, body = raw_text(SEED_000), cleaned_body(SEED_000)
    exact = jaccard(shingles(raw), shingles(body))
    assert exact >= 0.8
    assert estimate(text_signature(raw), text_signature(body)) >= 0.8
    result = compare(raw, body)
    assert result["verdict"] == "near-duplicate"
    assert result["exact"] == pytest.approx(exact)


def test_compare_calls_formatting_only_differences_duplicates() -> None:
    result = compare("Talks resume in Istanbul, 2 June.", "talks  resume in ISTANBUL 3 june")
    assert result == {"estimated": 1.0, "exact": 1.0, "verdict": "duplicate", "threshold": 0.8}
