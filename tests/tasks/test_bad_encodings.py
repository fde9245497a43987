"""Bytes that are not clean UTF-8, NUL bytes, one very long line and paths that are not regular
files, through read_file.
"""

from __future__ import annotations

import codecs
import json
import os
import random
import socket
import threading
from pathlib import Path

import pytest

from tasks.clean import clean
from tasks.errors import Rejected
from tasks.extract import decode, read_file
from tests.support.files import big_text, release_fifo

MAX = 50 * 1024 * 1024
UTF8_STORY = (
    "Delegations met in Istanbul on Monday — the first direct talks in weeks — and agreed "
    "to meet again. “We are ready,” the minister said. "
) * 6


def _read(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    (doc,) = read_file(path, MAX).documents
    return doc.text


def test_a_utf8_story_with_one_stray_cp1252_byte_is_read_whole(tmp_path: Path) -> None:
    data = UTF8_STORY.encode() + b"The ministry\x92s answer came late."
    text = _read(tmp_path, "stray.txt", data)
    assert text == UTF8_STORY + "The ministry’s answer came late."


def test_a_cp1252_paragraph_pasted_into_utf8_keeps_both_right(tmp_path: Path) -> None:
    pasted = "He said: “it’s the café’s view”. Le président a déclaré qu’il était prêt."
    data = UTF8_STORY.encode() + b"\n\n" + pasted.encode("cp1252") + b"\n\n" + UTF8_STORY.encode()
    text = _read(tmp_path, "mixed.txt", data)
    assert text == f"{UTF8_STORY}\n\n{pasted}\n\n{UTF8_STORY}"


def test_utf8_cut_inside_its_last_character_is_read(tmp_path: Path) -> None:
    data = UTF8_STORY.encode() + "Ends with a dash —".encode()[:-1]
    assert _read(tmp_path, "cut.txt", data).startswith(UTF8_STORY + "Ends with a dash ")


@pytest.mark.parametrize(
    ("codec", "text"),
    [
        ("latin-1", "Die Straße in München ist schön, sagte der Bürgermeister am Montag früh."),
        ("cp1252", "Le président a déclaré mercredi qu’il était « prêt » à négocier – enfin."),
        ("cp1251", "Переговоры между делегациями возобновились в Стамбуле в понедельник. " * 3),
        ("utf-16", "Grüße aus Köln — “quoted”, 東京 and Москва.\n"),  # with its BOM
        ("utf-16-le", "\ufeffGrüße aus Köln — “quoted”, 東京 and Москва.\n"),
        ("utf-16-be", "\ufeffGrüße aus Köln — “quoted”, 東京 and Москва.\n"),
        ("utf-8-sig", "A UTF-8 file with a BOM: café.\n"),
    ],
)
def test_legacy_and_utf16_files_are_decoded(tmp_path: Path, codec: str, text: str) -> None:
    assert _read(tmp_path, "story.txt", text.encode(codec)) == text.removeprefix("\ufeff")


def test_a_json_lines_feed_in_utf16_with_a_bom_is_read(tmp_path: Path) -> None:
    lines = [json.dumps({"title": "Köln", "body": "Grüße"}, ensure_ascii=False)] * 2
    path = tmp_path / "feed.jsonl"
    path.write_bytes(codecs.BOM_UTF16_LE + "\n".join(lines).encode("utf-16-le"))
    docs = read_file(path, MAX).documents
    assert [(d.title, d.text) for d in docs] == [("Köln", "Grüße")] * 2


def test_random_bytes_without_nul_are_undecodable_not_garbage(tmp_path: Path) -> None:
    data = bytes(b for b in random.Random(4).randbytes(6000) if b)[:4000]
    path = tmp_path / "noise.txt"
    path.write_bytes(data)
    with pytest.raises(Rejected) as caught:
        read_file(path, MAX)
    assert caught.value.reason == "undecodable"


def test_mostly_foreign_bytes_are_not_taken_for_utf8_with_stray_bytes() -> None:
    # A cp1251 text is mostly high bytes: the UTF-8 fallback must not claim it.
    text = "Переговоры возобновились в Стамбуле в понедельник, сообщили источники. " * 4
    assert decode(text.encode("cp1251")) == (text, "cp1251")


def test_nul_bytes_at_the_start_make_a_file_binary(tmp_path: Path) -> None:
    path = tmp_path / "nul.txt"
    path.write_bytes(b"\x00\x00\x00\x01" + b"looks like text after the header")
    with pytest.raises(Rejected) as caught:
        read_file(path, MAX)
    assert (caught.value.reason, caught.value.detail) == (
        "binary",
        "content is a binary file (NUL bytes), not .txt text",
    )


def test_a_nul_byte_inside_a_json_lines_item_is_dropped_and_the_item_kept(
    tmp_path: Path,
) -> None:
    good = json.dumps({"title": "Fine", "body": "A body of text."})
    path = tmp_path / "feed.jsonl"
    path.write_bytes(("\n" * 9000).encode() + good.encode().replace(b"body of", b"bo\x00dy of"))
    (doc,) = read_file(path, MAX).documents
    assert doc.text == "A body of text."


def test_one_5_mb_line_is_read_and_cleaned_whole(tmp_path: Path) -> None:
    line = big_text(5 << 20, seed=8, paragraphs=False)
    assert "\n" not in line and len(line) > 5_000_000
    path = tmp_path / "one-line.txt"
    path.write_text(line)

    (doc,) = read_file(path, MAX).documents
    cleaned = clean(doc)

    assert doc.text == line
    assert cleaned.body.split() == line.split()


def test_a_file_of_only_newlines_and_spaces_of_every_kind_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "blank.txt"
    path.write_text("\u00a0\u2003\u3000\n\r\n\t\u2028" * 100)
    with pytest.raises(Rejected) as caught:
        read_file(path, MAX)
    assert caught.value.reason == "empty"


def test_a_name_with_non_utf8_bytes_is_read(tmp_path: Path) -> None:
    path = tmp_path / os.fsdecode(b"caf\xe9.txt")
    path.write_text("A story under a latin-1 name.")
    (doc,) = read_file(path, MAX).documents
    assert doc.text == "A story under a latin-1 name."
    assert doc.source == str(path)


def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    # Were read_file to block on it, this ends the wait (as an empty file) instead of the run.
    rescue = threading.Timer(10, release_fifo, [fifo])
    rescue.start()
    try:
        with pytest.raises(Rejected) as caught:
            read_file(fifo, MAX)
    finally:
        rescue.cancel()
    assert caught.value.reason == "unreadable"
    assert "named pipe" in caught.value.detail


def test_a_symlink_loop_is_unreadable(tmp_path: Path) -> None:
    (tmp_path / "a.txt").symlink_to(tmp_path / "b.txt")
    (tmp_path / "b.txt").symlink_to(tmp_path / "a.txt")
    with pytest.raises(Rejected) as caught:
        read_file(tmp_path / "a.txt", MAX)
    assert caught.value.reason == "unreadable"
    assert "symbolic links" in caught.value.detail


def test_a_socket_and_a_folder_named_like_text_are_unreadable(tmp_path: Path) -> None:
    sock_path = tmp_path / "s.txt"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        with pytest.raises(Rejected) as caught:
            read_file(sock_path, MAX)
        assert caught.value.reason == "unreadable"
    (tmp_path / "folder.txt").mkdir()
    with pytest.raises(Rejected) as caught:
        read_file(tmp_path / "folder.txt", MAX)
    assert (caught.value.reason, "a folder" in caught.value.detail) == ("unreadable", True)
