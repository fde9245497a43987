"""Read a source file into a Document: size limits, binary sniffing, encoding detection."""

from __future__ import annotations

import codecs
import errno
import os
import stat
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from charset_normalizer import from_bytes

from tasks.document import Document
from tasks.errors import Rejected
from tasks.formats.fields import field_map
from tasks.formats.items import Items, extract_json, extract_jsonl
from tasks.formats.markdown import extract_markdown

# File signatures of common binary formats that scrapers save with a text extension by mistake.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x7fELF", "an ELF executable"),
    (b"PK\x03\x04", "a zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"RIFF", "a RIFF (audio/video) file"),
)

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def sniff_binary(data: bytes) -> str | None:
    """What binary format the bytes look like, or None for text."""
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if any(data.startswith(bom) for bom, _ in _BOMS):
        return None  # UTF-16/32 text is full of NUL bytes
    if b"\x00" in data[:8192]:
        return "a binary file (NUL bytes)"
    return None


# At most this share of a mostly-UTF-8 file's bytes may be read as cp1252 instead: a few
# pasted words, not a binary file that happens to hold some valid UTF-8.
_MAX_FALLBACK_SHARE = 0.05
# cp1252 leaves five bytes undefined; they are read as latin-1 (the C1 control of that value).
_CP1252_UNDEFINED = frozenset({0x81, 0x8D, 0x8F, 0x90, 0x9D})
_FALLBACK_ERRORS = "dropsift-cp1252"
_fallback_bytes: ContextVar[int] = ContextVar("fallback_bytes", default=0)


def _as_cp1252(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: the bytes UTF-8 refused, read one by one as cp1252."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    _fallback_bytes.set(_fallback_bytes.get() + len(bad))
    text = "".join(chr(b) if b in _CP1252_UNDEFINED else bytes([b]).decode("cp1252") for b in bad)
    return text, error.end


codecs.register_error(_FALLBACK_ERRORS, _as_cp1252)


def utf8_with_cp1252(data: bytes) -> tuple[str, int]:
    """The bytes as UTF-8, those that are not read as cp1252; and how many bytes those were."""
    token = _fallback_bytes.set(0)
    try:
        return data.decode("utf-8", errors=_FALLBACK_ERRORS), _fallback_bytes.get()
    finally:
        _fallback_bytes.reset(token)


def decode(data: bytes) -> tuple[str, str]:
    """Decode bytes to text; returns (text, encoding). Raises Rejected when no encoding fits."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise Rejected("undecodable", f"starts with a {encoding} BOM but: {exc}") from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # UTF-8 with pieces pasted in as cp1252 ("it\x92s"), as a scraper that joins sources
    # makes: no single encoding fits, and a detector's guess garbles the UTF-8 part.
    mixed, stray = utf8_with_cp1252(data)
    few = stray <= _MAX_FALLBACK_SHARE * len(data)
    utf8_chars = len(mixed) - len(mixed.encode("ascii", errors="ignore")) - stray
    if few and utf8_chars > 0:
        return mixed, "utf-8+cp1252"
    results = from_bytes(data)
    best = results.best()
    if best is not None and best.encoding is not None:
        # A tie (cp1250 and cp1252 read French equally well to the detector) goes to
        # cp1252, the web's most common single-byte encoding: "prêt à", not "pręt ŕ".
        tied = [m for m in results if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
        best = next((m for m in tied if "cp1252" in m.could_be_from_charset), best)
        return str(best), best.encoding
    if few:
        return mixed, "utf-8+cp1252"
    raise Rejected("undecodable", "no text encoding fits these bytes")


@dataclass
class Extraction:
    """What one file held: its documents, and the items of it refused on their own."""

    documents: list[Document]
    rejected: list[tuple[str, Rejected]] = field(default_factory=list)
    """(item source, why) for items of a multi-item file (a bad JSON line, say)."""
    raw: bytes = b""


def html_document(source: str, text: str) -> Document:
    from tasks.formats.html import extract_html  # trafilatura loads lazily, once

    return extract_html(source, text)


Extractor = Callable[[Path, str, Mapping[str, Sequence[str]]], Extraction]


def _one(doc: Document) -> Extraction:
    return Extraction([doc])


def _items(items: Items) -> Extraction:
    if not items.documents and not items.rejected:
        raise Rejected("empty", "the file holds no items")
    return Extraction(items.documents, items.rejected)


# One extractor per format, chosen by extension.
EXTRACTORS: dict[str, Extractor] = {
    ".txt": lambda p, t, f: _one(Document(source=str(p), text=t, format="txt")),
    ".text": lambda p, t, f: _one(Document(source=str(p), text=t, format="txt")),
    ".md": lambda p, t, f: _one(extract_markdown(str(p), t)),
    ".markdown": lambda p, t, f: _one(extract_markdown(str(p), t)),
    ".html": lambda p, t, f: _one(html_document(str(p), t)),
    ".htm": lambda p, t, f: _one(html_document(str(p), t)),
    ".json": lambda p, t, f: _items(extract_json(str(p), t, html_document, f)),
    ".jsonl": lambda p, t, f: _items(extract_jsonl(str(p), t, html_document, f)),
    ".ndjson": lambda p, t, f: _items(extract_jsonl(str(p), t, html_document, f)),
}


# What opening a path can meet that no retry changes: a symlink loop, a socket, a folder.
_NOT_A_FILE = frozenset({errno.ELOOP, errno.ENXIO, errno.ENODEV, errno.EISDIR, errno.ENAMETOOLONG})


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "a device file"


def _open_regular(path: Path) -> BinaryIO:
    """The file opened for reading; Rejected("unreadable") for what is not a regular file."""
    try:
        # Non-blocking, so a named pipe with no writer does not hang the worker on open.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno in _NOT_A_FILE:
            raise Rejected("unreadable", f"{exc.strerror}: {path}") from exc
        raise
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise Rejected("unreadable", f"{path} is {_kind(mode)}, not a regular file")
    return open(fd, "rb")


def read_file(
    path: Path, max_bytes: int, field_overrides: Mapping[str, Sequence[str]] | None = None
) -> Extraction:
    """Read, check and decode one file, and extract its document(s).

    `field_overrides` renames the fields of JSON items (DROPSIFT_JSON_FIELDS).
    """
    extractor = EXTRACTORS.get(path.suffix.lower())
    if extractor is None:
        known = ", ".join(sorted(EXTRACTORS))
        raise Rejected(
            "unsupported_format",
            f"no extractor for {path.suffix or 'no extension'!r} (supported: {known})",
        )
    # Open first and check the size on the open file, so a file replaced in between
    # cannot slip a larger content past the limit.
    with _open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            raise Rejected(
                "too_large",
                f"{size} bytes is over the {max_bytes}-byte limit (DROPSIFT_MAX_FILE_BYTES)",
            )
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise Rejected("too_large", f"grew past the {max_bytes}-byte limit while being read")
    extraction = extractor(path, text_of(path, data), field_map(field_overrides))
    extraction.raw = data
    return extraction


def text_of(path: Path, data: bytes) -> str:
    """The text of a file's bytes; Rejected when empty, binary or undecodable."""
    if not data:
        raise Rejected("empty", "the file is empty")
    binary = sniff_binary(data)
    if binary:
        raise Rejected("binary", f"content is {binary}, not {path.suffix} text")
    text, _encoding = decode(data)
    if not text.strip():
        raise Rejected("empty", "the file holds only whitespace")
    # NUL bytes inside otherwise valid text break Elasticsearch's JSON and every text rule.
    return text.replace("\x00", "")
