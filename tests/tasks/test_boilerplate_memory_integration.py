"""Per-source boilerplate learning against the real Redis (db 15, per-session key prefix)."""

from __future__ import annotations

import threading

import pytest
import redis

from tasks.boilerplate_memory import REASON, SourceBoilerplate
from tasks.document import Document
from tests.support.files import tag
from worker.settings import Settings

pytestmark = pytest.mark.integration

FOOTER = "© {year} Example Media. All rights reserved."
TAGLINE = "Sign up for our newsletter"
LONG = (
    "The council met on Monday to discuss the annual budget, which includes new funding for "
    "the library, repairs to the old bridge over the river, and a pilot programme of evening "
    "bus services between the villages of the valley."
)


def opening(n: int) -> str:
    return f"Story {tag(n)} about the harbour."


def make_doc(n: int, *paragraphs: str, doc_id: str = "") -> Document:
    """A cleaned-looking document: a unique opening line, the given paragraphs, cleaning record."""
    body = "\n\n".join([opening(n), *paragraphs])
    return Document(
        source=f"/inbox/example.com/{n}.txt",
        text=body,
        body=body,
        doc_id=doc_id,
        cleaning={
            "version": "1",
            "chars_before": len(body) + 7,
            "chars_after": len(body),
            "removed": {"junk_line": ["Clicky"]},
        },
    )


@pytest.fixture
def memory(settings: Settings, redis_client: redis.Redis, clean_state: None) -> SourceBoilerplate:
    return SourceBoilerplate(redis_client, settings.key_prefix, horizon_seconds=3600)


def paragraphs(doc: Document) -> list[str]:
    return doc.body.split("\n\n")


def test_footer_is_kept_until_learned_then_removed(memory: SourceBoilerplate) -> None:
    footer = FOOTER.format(year=2025)
    results = [memory.apply(make_doc(n, footer), "example.com") for n in range(6)]

    # Fewer than min_docs (5) documents carry it: still part of the body.
    for out in results[:4]:
        assert paragraphs(out)[-1] == footer
        assert REASON not in out.cleaning["removed"]
    # From the fifth on it is the source's boilerplate.
    for n, out in enumerate(results[4:], start=4):
        assert out.body == opening(n)
        assert out.cleaning["removed"][REASON] == [footer]
        assert out.cleaning["removed"]["junk_line"] == ["Clicky"]  # earlier reasons kept
        assert out.cleaning["chars_after"] == len(out.body)
        assert out.cleaning["chars_before"] == len(out.text) + 7
        assert "held_back" not in out.cleaning
    assert memory.docs_seen("example.com") == 6
    assert memory.line_count("example.com", footer) == 6


def test_a_footer_with_another_year_is_another_line(memory: SourceBoilerplate) -> None:
    for n in range(6):
        memory.apply(make_doc(n, FOOTER.format(year=2025)), "example.com")

    out = memory.apply(make_doc(6, FOOTER.format(year=2026)), "example.com")

    assert paragraphs(out)[-1] == FOOTER.format(year=2026)
    assert memory.line_count("example.com", FOOTER.format(year=2026)) == 1


def test_learned_lines_never_empty_a_document(memory: SourceBoilerplate) -> None:
    # Every document of the site is the same two short blocks (a menu and a tagline).
    docs = [
        Document(source=f"/inbox/x.net/{n}.txt", text="t", body=f"Home\nNews\n\n{TAGLINE}")
        for n in range(6)
    ]
    outs = [memory.apply(doc.replace(doc_id=f"id-{n}"), "x.net") for n, doc in enumerate(docs)]

    assert [out.body for out in outs] == [doc.body for doc in docs]
    assert all(REASON not in out.cleaning.get("removed", {}) for out in outs)
    held = outs[-1].cleaning["held_back"][REASON]
    assert held["why"] == "it would leave nothing of the document"
    assert held["lines"] == ["Home\nNews", TAGLINE]
    assert "held_back" not in outs[3].cleaning  # not learned yet: nothing was held back


def test_learned_lines_never_gut_a_document(memory: SourceBoilerplate) -> None:
    chrome = ["Sign up for our newsletter", "Follow us on Facebook and Instagram"]
    outs = [memory.apply(make_doc(n, *chrome), "example.com") for n in range(6)]
    # The opening is 26 of 91 characters: removing the rest would take 71% of the text.
    for out in outs[4:]:
        assert paragraphs(out)[1:] == chrome
        why = out.cleaning["held_back"][REASON]["why"]
        assert why == "it would remove 71% of the text (at most 67% may be learned boilerplate)"
        assert REASON not in out.cleaning["removed"]

    # With a longer document the same lines are within the limit and go.
    out = memory.apply(make_doc(7, LONG, *chrome), "example.com")
    assert paragraphs(out) == [opening(7), LONG]
    assert out.cleaning["removed"][REASON] == chrome
    assert "held_back" not in out.cleaning


def test_input_document_is_not_modified(memory: SourceBoilerplate) -> None:
    docs = [make_doc(n, TAGLINE) for n in range(5)]
    outs = [memory.apply(d, "example.com") for d in docs]
    assert outs[-1].body != docs[-1].body
    assert docs[-1].body.endswith(TAGLINE)
    assert REASON not in docs[-1].cleaning["removed"]


def test_same_line_in_another_source_is_kept(memory: SourceBoilerplate) -> None:
    for n in range(6):
        memory.apply(make_doc(n, TAGLINE), "example.com")

    out = memory.apply(make_doc(100, TAGLINE), "other.org")

    assert paragraphs(out)[-1] == TAGLINE
    assert REASON not in out.cleaning["removed"]
    assert memory.line_count("other.org", TAGLINE) == 1
    assert memory.line_count("example.com", TAGLINE) == 6


def test_line_in_a_small_share_of_documents_is_kept(memory: SourceBoilerplate) -> None:
    occasional = "Related: the harbour festival"
    outs = []
    for n in range(20):
        extra = [occasional] if n % 3 == 0 else []  # 7 of 20 documents
        outs.append(memory.apply(make_doc(n, *extra, TAGLINE), "example.com"))

    for n, out in enumerate(outs):
        if n % 3 == 0:
            assert occasional in paragraphs(out)
    # Enough documents (7 >= min_docs) but only 35% of them: the share rule keeps it.
    assert memory.line_count("example.com", occasional) == 7
    # The line every document carries is removed once learned.
    assert TAGLINE in paragraphs(outs[3])
    assert TAGLINE not in paragraphs(outs[-1])
    assert outs[-1].cleaning["removed"][REASON] == [TAGLINE]


def test_reapplying_a_document_does_not_inflate_counts(memory: SourceBoilerplate) -> None:
    doc = make_doc(1, TAGLINE)  # no doc_id: identified by a hash of its body
    for _ in range(6):
        out = memory.apply(doc, "example.com")
        assert paragraphs(out)[-1] == TAGLINE
    assert memory.docs_seen("example.com") == 1
    assert memory.line_count("example.com", TAGLINE) == 1

    # With a doc_id, the id is what identifies the document.
    for body_variant in range(3):
        memory.apply(make_doc(50 + body_variant, TAGLINE, doc_id="abc123"), "example.com")
    assert memory.docs_seen("example.com") == 2
    assert memory.line_count("example.com", TAGLINE) == 2


def test_reapplying_a_learned_document_gives_the_same_result(memory: SourceBoilerplate) -> None:
    docs = [make_doc(n, TAGLINE, doc_id=f"id-{n}") for n in range(5)]
    first = [memory.apply(d, "example.com") for d in docs]
    again = memory.apply(docs[-1], "example.com")  # e.g. redelivered after a worker crash

    assert again.body == first[-1].body == opening(4)
    assert again.cleaning == first[-1].cleaning
    assert memory.docs_seen("example.com") == 5
    assert memory.line_count("example.com", TAGLINE) == 5


def test_long_paragraphs_are_never_removed(memory: SourceBoilerplate) -> None:
    assert len(LONG) > 200
    long_lines = "\n".join(["Home", "News", LONG[:150], LONG[150:]])  # short lines, long block
    outs = [memory.apply(make_doc(n, LONG, long_lines), "example.com") for n in range(8)]

    for out in outs:
        assert paragraphs(out)[1:] == [LONG, long_lines]
        assert REASON not in out.cleaning["removed"]
    assert memory.line_count("example.com", LONG) == 0  # not even counted
    assert memory.line_count("example.com", "Home") == 0


def test_max_line_chars_is_the_limit(
    settings: Settings, redis_client: redis.Redis, clean_state: None
) -> None:
    memory = SourceBoilerplate(redis_client, settings.key_prefix, max_line_chars=30)
    at_limit = "x" * 30
    over = "y" * 31
    outs = [memory.apply(make_doc(n, at_limit, over), "example.com") for n in range(5)]
    assert paragraphs(outs[-1])[1:] == [over]
    assert outs[-1].cleaning["removed"][REASON] == [at_limit]


def test_single_lines_inside_a_paragraph_are_learned(memory: SourceBoilerplate) -> None:
    def share_block(n: int) -> str:
        return f"Share this:\nTwitter\nPhoto: the quay at dawn, {tag(n)}"

    outs = [memory.apply(make_doc(n, share_block(n)), "x.net") for n in range(5)]

    assert paragraphs(outs[0])[1] == share_block(0)
    assert paragraphs(outs[-1])[1] == "Photo: the quay at dawn, e"
    assert outs[-1].cleaning["removed"][REASON] == ["Share this:", "Twitter"]
    assert outs[-1].cleaning["chars_after"] == len(outs[-1].body)


def test_whole_paragraph_is_removed_when_it_recurs(memory: SourceBoilerplate) -> None:
    nav = "Home\nNews\nSport"
    outs = [memory.apply(make_doc(n, nav), "x.net") for n in range(5)]
    assert outs[-1].body == opening(4)
    assert outs[-1].cleaning["removed"][REASON] == [nav]


def test_empty_source_key_leaves_document_alone(
    memory: SourceBoilerplate, settings: Settings, redis_client: redis.Redis
) -> None:
    doc = make_doc(1, TAGLINE)
    assert memory.apply(doc, "") is doc
    assert list(redis_client.scan_iter(f"{settings.key_prefix}bp:*")) == []


def test_concurrent_workers_give_exact_counts(memory: SourceBoilerplate) -> None:
    docs = [make_doc(n, TAGLINE, f"Unique line {tag(n)}") for n in range(40)]
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def work(batch: list[Document]) -> None:
        try:
            barrier.wait(timeout=10)
            for doc in batch:
                memory.apply(doc, "example.com")
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    def run(batches: list[list[Document]]) -> None:
        threads = [threading.Thread(target=work, args=(b,)) for b in batches]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors

    run([docs[i::4] for i in range(4)])  # different documents in each thread
    assert memory.docs_seen("example.com") == 40
    assert memory.line_count("example.com", TAGLINE) == 40
    assert all(memory.line_count("example.com", f"Unique line {tag(n)}") == 1 for n in range(40))

    run([docs, docs[::-1], docs[10:] + docs[:10], docs[::2] + docs[1::2]])  # all redelivered
    assert memory.docs_seen("example.com") == 40
    assert memory.line_count("example.com", TAGLINE) == 40


def test_keys_carry_a_ttl_refreshed_on_write(
    memory: SourceBoilerplate, settings: Settings, redis_client: redis.Redis
) -> None:
    memory.apply(make_doc(1, TAGLINE), "example.com")

    keys = memory.keys("example.com")
    assert sorted(redis_client.scan_iter(f"{settings.key_prefix}bp:*")) == sorted(keys)
    assert all(k.startswith(f"{settings.key_prefix}bp:example.com:") for k in keys)
    for key in keys:
        assert 3500 < redis_client.ttl(key) <= 3600

    for key in keys:
        redis_client.expire(key, 100)
    memory.apply(make_doc(1, TAGLINE), "example.com")  # already seen: no write, no refresh
    assert all(redis_client.ttl(k) <= 100 for k in keys)
    memory.apply(make_doc(2, TAGLINE), "example.com")
    assert all(3500 < redis_client.ttl(k) <= 3600 for k in keys)


def test_line_counts_stay_capped_and_keep_boilerplate(
    settings: Settings, redis_client: redis.Redis, clean_state: None
) -> None:
    memory = SourceBoilerplate(
        redis_client, settings.key_prefix, max_lines_per_source=50, max_docs_remembered=20
    )
    outs = []
    for n in range(30):
        unique = [f"Note {tag(n)} part {tag(k)}" for k in range(10)]
        outs.append(memory.apply(make_doc(n, *unique, TAGLINE), "example.com"))

    lines_key, docs_key = memory.keys("example.com")[2], memory.keys("example.com")[1]
    assert redis_client.zcard(lines_key) <= 50
    assert redis_client.zcard(docs_key) == 20
    assert memory.line_count("example.com", TAGLINE) == 30  # the frequent line survives pruning
    assert outs[-1].cleaning["removed"][REASON] == [TAGLINE]
