"""Per-source boilerplate: short lines that recur across a source's documents, learned in Redis."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

import redis
import structlog

from tasks.document import Document
from tasks.redis_scripts import lua
from tasks.replies import as_text

REASON = "source_boilerplate"

# Learned lines may take at most this share of a document's characters. The heaviest chrome of
# the benchmark corpus (three footer lines and two share prompts, 218 characters) is 37% of the
# shortest real article of the dev set (369 characters) and 5% of the median one (3,794); a
# templated note whose figures line was learned loses 100%. Above the limit nothing is removed.
MAX_SHARE_REMOVED = 2 / 3

_SPACE = re.compile(r"\s+")
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")

log = structlog.get_logger(__name__)

_APPLY = lua(__name__, "apply")


def normalise_line(text: str) -> str:
    """Casefold, NFKC and collapse whitespace; numbers are kept, so figures tell lines apart."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub(" ", folded).strip()


def line_hash(text: str) -> str:
    """Short hash (8 bytes of BLAKE2b, hex) of a line's normalised form."""
    return hashlib.blake2b(normalise_line(text).encode("utf-8"), digest_size=8).hexdigest()


def _doc_key(doc: Document) -> str:
    """Stable id of the document for idempotency: its doc_id, else a hash of its body."""
    basis = doc.doc_id or f"body:{doc.body}"
    return hashlib.blake2b(basis.encode("utf-8"), digest_size=8).hexdigest()


@dataclass(frozen=True)
class _Paragraph:
    """A paragraph of the body with the hash of itself and of each of its lines."""

    text: str
    whole: str | None
    """Hash of the whole paragraph; None when it is too long to ever be boilerplate."""
    lines: list[tuple[str, str | None]]
    """(line, hash) for multi-line paragraphs; hash None for lines that carry no text."""


class SourceBoilerplate:
    """Counts short lines per source in Redis and strips those most of the source's docs share."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        *,
        min_docs: int = 5,
        min_share: float = 0.5,
        max_line_chars: int = 200,
        horizon_seconds: int = 30 * 86400,
        max_lines_per_source: int = 20_000,
        max_docs_remembered: int = 10_000,
        max_share_removed: float = MAX_SHARE_REMOVED,
    ) -> None:
        self.r = client
        self.prefix = prefix
        self.min_docs = min_docs
        self.min_share = min_share
        self.max_line_chars = max_line_chars
        self.horizon_seconds = horizon_seconds
        # Line counts are capped by pruning the rarest lines rather than by refusing new ones:
        # the TTL is refreshed on every write, so a busy source never expires, and a frozen
        # table would never learn a footer added after it filled up. Real boilerplate has a
        # high count and survives pruning; the lines that go are one-off article sentences.
        self.max_lines_per_source = max_lines_per_source
        # Document ids are kept only for the most recent arrivals: that covers a redelivery
        # after a worker crash without a set that grows with every document of the source.
        self.max_docs_remembered = max_docs_remembered
        self.max_share_removed = max_share_removed
        self._apply = client.register_script(_APPLY)

    def _key(self, source_key: str, part: str) -> str:
        return f"{self.prefix}bp:{source_key}:{part}"

    def keys(self, source_key: str) -> list[str]:
        """The Redis keys kept for one source: docs-seen counter, recent doc ids, line counts."""
        return [self._key(source_key, part) for part in ("seen", "docs", "lines")]

    def docs_seen(self, source_key: str) -> int:
        """How many distinct documents of the source have been counted (within the horizon)."""
        value = self.r.get(self._key(source_key, "seen"))
        return int(value) if value is not None else 0

    def line_count(self, source_key: str, line: str) -> int:
        """In how many of the source's documents the line (normalised) has been seen."""
        score = self.r.zscore(self._key(source_key, "lines"), line_hash(line))
        return int(score) if score is not None else 0

    def _split(self, body: str) -> list[_Paragraph]:
        """Paragraphs on blank lines; short ones hashed whole, and line by line if multi-line."""
        paragraphs: list[_Paragraph] = []
        for text in _BLANK_LINE.split(body):
            if not text.strip():
                continue
            if len(text.strip()) > self.max_line_chars:
                # Long paragraphs are article text: neither they nor their lines are touched.
                paragraphs.append(_Paragraph(text, None, []))
                continue
            lines = text.split("\n")
            per_line = (
                [(line, line_hash(line) if normalise_line(line) else None) for line in lines]
                if len(lines) > 1
                else []
            )
            whole = line_hash(text) if normalise_line(text) else None
            paragraphs.append(_Paragraph(text, whole, per_line))
        return paragraphs

    def apply(self, doc: Document, source_key: str) -> Document:
        """Count the document's short lines for the source; drop those learned as boilerplate."""
        if not source_key:
            return doc
        paragraphs = self._split(doc.body)
        # Each distinct line once per document, however often it repeats within it.
        hashes = list(
            dict.fromkeys(
                h for p in paragraphs for h in [p.whole, *(h for _, h in p.lines)] if h is not None
            )
        )

        reply = self._apply(
            keys=self.keys(source_key),
            args=[
                _doc_key(doc),
                self.min_docs,
                repr(float(self.min_share)),
                self.horizon_seconds,
                self.max_lines_per_source,
                self.max_docs_remembered,
                *hashes,
            ],
        )
        boiler = {as_text(h) for h in reply[2:]}
        if not boiler:
            return doc.replace()

        kept: list[str] = []
        removed: list[str] = []
        for p in paragraphs:
            if p.whole is not None and p.whole in boiler:
                removed.append(p.text)
                continue
            lines_kept = [line for line, h in p.lines if h is None or h not in boiler]
            if p.lines and len(lines_kept) < len(p.lines):
                removed.extend(line for line, h in p.lines if h is not None and h in boiler)
                # A paragraph left with only blank lines is gone, not an empty paragraph.
                if any(line.strip() for line in lines_kept):
                    kept.append("\n".join(lines_kept))
                continue
            kept.append(p.text)

        body = "\n\n".join(kept)
        cleaning = dict(doc.cleaning)
        held_back = self._held_back(doc.body, body)
        if held_back:
            # Learned boilerplate never empties or guts a document: it stays whole, and says so.
            cleaning["held_back"] = {
                **cleaning.get("held_back", {}),
                REASON: {"why": held_back, "lines": removed},
            }
            log.info("boilerplate_held_back", source=doc.source, site=source_key, why=held_back)
            return doc.replace(cleaning=cleaning)
        reasons = {reason: list(lines) for reason, lines in cleaning.get("removed", {}).items()}
        reasons.setdefault(REASON, []).extend(removed)
        cleaning["removed"] = reasons
        cleaning["chars_after"] = len(body)
        return doc.replace(body=body, cleaning=cleaning)

    def _held_back(self, before: str, after: str) -> str | None:
        """Why removing the learned lines must not happen, or None when it may."""
        if not after.strip():
            return "it would leave nothing of the document"
        share = 1 - len(after.strip()) / max(len(before.strip()), 1)
        if share > self.max_share_removed:
            return (
                f"it would remove {share:.0%} of the text "
                f"(at most {self.max_share_removed:.0%} may be learned boilerplate)"
            )
        return None
