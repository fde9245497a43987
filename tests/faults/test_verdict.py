"""The fault suite's verdict itself: what it calls lost, duplicated and unenriched."""

from __future__ import annotations

from tests.faults.support import Doc, Manifest, compare


def _manifest() -> Manifest:
    manifest = Manifest()
    manifest.files = {"/in/a": "mfz" + "a" * 16, "/in/b": "mfz" + "b" * 16}
    return manifest


def test_a_document_phase_2_never_reached_is_unenriched() -> None:
    manifest = _manifest()
    docs = [
        Doc("1", ("/in/a",), "x mfz" + "a" * 16, enriched=True),
        Doc("2", ("/in/b",), "y mfz" + "b" * 16, enriched=False),
    ]
    assert compare(manifest, docs, phase2=True).unenriched == ["/in/b"]
    assert compare(manifest, docs).clean  # phase 1 only: nothing to enrich


def test_a_document_to_be_given_up_must_not_be_enriched() -> None:
    manifest = _manifest()
    manifest.enrich_failed = {"/in/b"}
    given_up = [
        Doc("1", ("/in/a",), "x mfz" + "a" * 16, enriched=True),
        Doc("2", ("/in/b",), "y mfz" + "b" * 16, enriched=False),
    ]
    assert compare(manifest, given_up, phase2=True).clean
    enriched = [given_up[0], Doc("2", ("/in/b",), "y mfz" + "b" * 16, enriched=True)]
    assert compare(manifest, enriched, phase2=True).unenriched == ["/in/b"]


def test_lost_and_duplicated_come_before_enrichment() -> None:
    manifest = _manifest()
    docs = [
        Doc("1", ("/in/a",), "mfz" + "a" * 16),
        Doc("3", ("/in/a",), "mfz" + "a" * 16),
    ]
    verdict = compare(manifest, docs, phase2=True)
    assert verdict.lost == ["/in/b"]
    assert verdict.duplicated == ["/in/a"]
    assert verdict.unenriched == []
