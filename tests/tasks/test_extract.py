"""Unit tests for extraction: binary sniffing, encoding detection and read_file's rejections."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from tasks.document import Document
from tasks.errors import Rejected
from tasks.extract import decode, read_file, sniff_binary

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"
CP1252 = (
    b"caf\xe9 \x93quoted\x94 text and more words here for the detector to see, the caf\xe9 "
    b"was open late and served \x93good\x94 coffee to everyone who came by."
)
MAX = 1024 * 1024


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PNG, "PNG"),
        (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 16, "ELF"),
        (b"PK\x03\x04\x14\x00\x00\x00", "zip"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "gzip"),
        (b"plain looking text\x00with a NUL in it", "NUL"),
    ],
)
def test_sniff_binary_recognises_binary_headers(data: bytes, expected: str) -> None:
    result = sniff_binary(data)
    assert result is not None
    assert expected in result


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_sniff_binary_utf16_with_bom_is_text(codec: str) -> None:
    bom = codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE
    data = bom + "Hello, world. Plain text.".encode(codec)
    assert b"\x00" in data  # would trip the NUL check without the BOM exemption
    assert sniff_binary(data) is None


def test_sniff_binary_plain_text_is_not_binary() -> None:
    assert sniff_binary("Ordinary text, café and “quotes”.".encode()) is None


def test_sniff_binary_utf16_without_bom_is_binary() -> None:
    assert sniff_binary("Hello world".encode("utf-16-le")) is not None


def test_decode_utf8() -> None:
    text, encoding = decode("naïve café — ok".encode())
    assert text == "naïve café — ok"
    assert encoding == "utf-8"


def test_decode_utf8_bom_is_stripped() -> None:
    text, encoding = decode(codecs.BOM_UTF8 + "café".encode())
    assert text == "café"
    assert not text.startswith("\ufeff")
    assert encoding == "utf-8-sig"


@pytest.mark.parametrize(
    ("bom", "codec"),
    [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")],
)
def test_decode_utf16_with_bom(bom: bytes, codec: str) -> None:
    original = "Grüße aus Köln — “quoted”"
    text, _encoding = decode(bom + original.encode(codec))
    assert text == original


def test_decode_cp1252_bytes() -> None:
    text, encoding = decode(CP1252)
    assert encoding != "utf-8"
    assert text.startswith("café “quoted” text")
    assert "served “good” coffee" in text
    assert "\ufffd" not in text


def test_decode_invalid_utf16_after_bom_is_rejected() -> None:
    # An odd number of bytes after a UTF-16 BOM cannot be UTF-16.
    with pytest.raises(Rejected) as info:
        decode(codecs.BOM_UTF16_LE + b"a\x00b")
    assert info.value.reason == "undecodable"


def test_read_file_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(Rejected) as info:
        read_file(path, MAX)
    assert info.value.reason == "empty"


def test_read_file_whitespace_only(tmp_path: Path) -> None:
    path = tmp_path / "blank.txt"
    path.write_bytes(b"  \n\t\r\n   \n")
    with pytest.raises(Rejected) as info:
        read_file(path, MAX)
    assert info.value.reason == "empty"


def test_read_file_png_named_txt_is_binary(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(PNG)
    with pytest.raises(Rejected) as info:
        read_file(path, MAX)
    assert info.value.reason == "binary"
    assert "PNG" in info.value.detail


def test_read_file_too_large(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"a" * 101)
    with pytest.raises(Rejected) as info:
        read_file(path, 100)
    assert info.value.reason == "too_large"


def test_read_file_exactly_max_bytes_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "edge.txt"
    path.write_bytes(b"a" * 100)
    extraction = read_file(path, 100)
    (doc,), raw = extraction.documents, extraction.raw
    assert doc.text == "a" * 100
    assert len(raw) == 100


@pytest.mark.parametrize("name", ["report.pdf", "data.csv", "noextension"])
def test_read_file_unknown_extension(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"Some text that would otherwise be fine.")
    with pytest.raises(Rejected) as info:
        read_file(path, MAX)
    assert info.value.reason == "unsupported_format"


def test_read_file_utf8_txt(tmp_path: Path) -> None:
    content = "Title line\n\nA paragraph with café and “quotes”.\n"
    path = tmp_path / "story.txt"
    path.write_bytes(content.encode())
    extraction = read_file(path, MAX)
    (doc,), raw = extraction.documents, extraction.raw
    assert isinstance(doc, Document)
    assert doc.text == content
    assert doc.format == "txt"
    assert doc.source == str(path)
    assert raw == path.read_bytes()


def test_read_file_uppercase_extension(tmp_path: Path) -> None:
    path = tmp_path / "STORY.TXT"
    path.write_bytes(b"Hello there, reader.")
    (doc,) = read_file(path, MAX).documents
    assert doc.text == "Hello there, reader."
