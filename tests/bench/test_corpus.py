"""The corpus generator: deterministic for a seed, and it plants what it says it plants."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench import corpus
from bench.corpus import LabelledDoc, generate_labelled, ground_truth_path

_TOKEN = re.compile(r"\w+")
N_DOCS = 80
SEED = 3

pytestmark = pytest.mark.skipif(
    not ground_truth_path().exists(),
    reason=f"benchmark data not found at {ground_truth_path()} (set DROPSIFT_BENCH_DATA)",
)


def flat(text: str) -> str:
    """The text as a space-joined token sequence: layout, wraps and punctuation gone."""
    return " ".join(_TOKEN.findall(text))


@pytest.fixture(scope="module")
def docs() -> list[LabelledDoc]:
    """A generated set; mojibake documents are left out of content checks below."""
    return generate_labelled(N_DOCS, SEED)


def plain(docs: list[LabelledDoc]) -> list[LabelledDoc]:
    """Documents whose text is not deliberately mis-encoded."""
    return [d for d in docs if corpus.MOJIBAKE not in d.noise]


def test_deterministic_for_a_seed(docs: list[LabelledDoc]) -> None:
    """The same seed gives the same documents; document i does not depend on n."""
    again = generate_labelled(N_DOCS, SEED)
    assert [d.to_json() for d in again] == [d.to_json() for d in docs]
    assert generate_labelled(10, SEED) == docs[:10]
    assert [d.text for d in generate_labelled(10, SEED + 1)] != [d.text for d in docs[:10]]
    assert len({d.name for d in docs}) == N_DOCS


def test_gold_body_is_in_the_text(docs: list[LabelledDoc]) -> None:
    """Every gold paragraph is in the document, whatever wraps and breaks were applied."""
    for doc in plain(docs):
        text = flat(doc.text)
        for paragraph in doc.gold_body.split("\n\n"):
            assert flat(paragraph) in text, (doc.name, paragraph[:80])


def test_repeated_body_really_repeats(docs: list[LabelledDoc]) -> None:
    """A document marked repeated_body holds its last paragraphs twice."""
    marked = [d for d in plain(docs) if corpus.REPEATED_BODY in d.noise]
    assert marked
    for doc in marked:
        text = flat(doc.text)
        for paragraph in doc.gold_body.split("\n\n")[1:]:
            assert text.count(flat(paragraph)) >= 2, (doc.name, paragraph[:80])


def test_title_and_date_planted(docs: list[LabelledDoc]) -> None:
    """A planted title is in the text; a date is labelled exactly when one was planted."""
    assert any(d.gold_title for d in docs) and any(not d.gold_title for d in docs)
    for doc in plain(docs):
        assert (doc.gold_title is not None) == (corpus.TITLE in doc.noise)
        assert (doc.gold_published is not None) == (corpus.DATE in doc.noise)
        if doc.gold_title:
            assert flat(doc.gold_title) in flat(doc.text)
        if doc.gold_author:
            assert f"By {doc.gold_author}" in doc.text


def test_hard_wrap_and_related_links(docs: list[LabelledDoc]) -> None:
    """Wrapped documents have no line over 80 columns; link blocks start with a heading."""
    wrapped = [d for d in docs if corpus.HARD_WRAP in d.noise]
    assert wrapped
    for doc in wrapped:
        lines = doc.text.split("\n")
        assert max(len(line) for line in lines) <= 80 and len(lines) > 10
    for doc in docs:
        if corpus.RELATED_LINKS in doc.noise:
            present = set(doc.text.split("\n"))
            assert any(heading in present for heading in corpus._RELATED_HEADINGS), doc.name


def test_recombined_and_news_sized(docs: list[LabelledDoc]) -> None:
    """Recombined bodies come from two articles; documents average around 5 KB."""
    for doc in docs:
        assert len(doc.sources) == (2 if corpus.RECOMBINED in doc.noise else 1)
    mean = sum(len(d.text.encode("utf-8")) for d in docs) / len(docs)
    assert 3000 <= mean <= 8000


def test_write_and_cli(tmp_path: Path) -> None:
    """The CLI writes one .txt per document and the labels as JSON lines elsewhere."""
    out, gold = tmp_path / "inbox", tmp_path / "labels.jsonl"
    corpus.main([str(out), "--n", "5", "--seed", "9", "--gold", str(gold)])
    files = sorted(out.iterdir())
    labels = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines()]
    assert [f.suffix for f in files] == [".txt"] * 5
    assert [f"{label['name']}.txt" for label in labels] == [f.name for f in files]
    assert files[0].read_text(encoding="utf-8") == generate_labelled(5, 9)[0].text
