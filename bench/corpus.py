"""Seeded generator of scraped-looking .txt news documents with known gold, from real bodies.

Bodies are the hand-made gold article bodies of the article-extraction dev set; titles come
from the pages' <title> tags. Around them the generator plants the furniture real scrapers
leave in plain text (widget and section lines, date lines, bylines, share/subscribe/cookie
prompts, related-links blocks, repeated bodies, hard wraps, sentences cut by blank lines), and
records what it planted, so a cleaner can be scored and any run can rebuild the same corpus.

    python -m bench.corpus OUT --n 500 --seed 7 [--gold labels.jsonl]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import html
import json
import os
import random
import re
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

DATA_ENV = "DROPSIFT_BENCH_DATA"
_REPO_ROOT = Path(__file__).resolve().parents[1]
DEV_SET = Path("article-extraction") / "dev"
# News-sized: the throughput benchmarks are specified for ~5 KB documents.
TARGET_CHARS = 5000

# Noise kinds, as recorded in LabelledDoc.noise.
JUNK_HEADER = "junk_header"
SECTION_LABEL = "section_label"
TITLE = "title"
DATE = "date"
UPDATED_DATE = "updated_date"
BYLINE = "byline"
STANDFIRST = "standfirst"
SHARE_PROMPTS = "share_prompts"
AD_BREAKS = "ad_breaks"
RELATED_LINKS = "related_links"
RELATED_MID_BODY = "related_mid_body"
INLINE_READ_MORE = "inline_read_more"
REPEATED_BODY = "repeated_body"
PARTIAL_REPEAT = "partial_repeat"
HARD_WRAP = "hard_wrap"
BROKEN_SENTENCE = "broken_sentence"
SINGLE_NEWLINES = "single_newlines"
MISSING_SPACE = "missing_space"
MOJIBAKE = "mojibake"
FOOTER = "footer"
RECOMBINED = "recombined"

_TITLE_TAG = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
# "Headline - Site", "Headline | Section | Site": the site part is short and comes last.
_SITE_SUFFIX = re.compile(r"\s+(?:[|–—]|-{1,2})\s+[^|–—]{1,40}$")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w")
# A planted title must look like one: real headlines do not end like a sentence.
_BAD_TITLE_END = re.compile(r"[.,;:]$")
_MIN_TITLE_WORDS = 4
_MAX_TITLE_CHARS = 140
# Where a blank line may cut a sentence: a space before a lowercase word, mid-paragraph.
_CUT_BEFORE_LOWER = re.compile(r"(?<=[a-z,]) (?=[a-z]{2,})")
# Where a blank line may cut inside a quotation: after a sentence end, before a capital.
_CUT_AFTER_SENTENCE = re.compile(r"(?<=[a-z][.!?]) (?=[A-Z])")
# A lead paragraph: a few words and a sentence end.
_LEAD = re.compile(r"^\S+(?:\s+\S+){7,}.*[.!?。][”\"’')]*$")
_SENTENCE_SPACE = re.compile(r"(?<=[a-z]{2})\. (?=[A-Z][a-z])")

_JUNK_HEADER_LINES = (
    "Clicky",
    "Advertisement",
    "ADVERTISEMENT",
    "Skip to main content",
    "Skip to content",
    "Listen to this article",
    "Facebook Twitter WhatsApp Email",
    "Share this article",
    "4 min read",
    "Sponsored",
)
_SECTIONS = (
    "World",
    "Business",
    "Politics",
    "Technology",
    "Science",
    "Health",
    "Sport",
    "Entertainment",
    "Opinion",
    "Europe",
    "Middle East",
    "US & Canada",
    "Asia",
    "Markets",
    "Culture",
)
_SHARE_LINES = (
    "Share this article",
    "Share on Facebook",
    "Share on Twitter",
    "Facebook Twitter LinkedIn Email",
    "Follow us on Twitter and Facebook",
    "Subscribe to our newsletter",
    "Sign up for our daily newsletter",
    "Sign up for breaking news alerts",
    "Click here to subscribe",
    "Download the app for the latest news",
    "Subscribe now",
    "Continue reading below",
)
_FOOTER_LINES = (
    "We use cookies to improve your experience on our site.",
    "Accept all cookies",
    "Manage cookies",
    "Cookie policy",
    "Follow us on Facebook, Twitter and Instagram",
    "Subscribe to our newsletter for the latest updates",
    "© 2025 The Daily Ledger. All rights reserved.",
    "Copyright © 2024 Newsroom Media Ltd",
    "All rights reserved.",
)
_RELATED_HEADINGS = (
    "You may also like",
    "You might also like",
    "Read more",
    "Read more:",
    "Related",
    "Related stories",
    "Related Articles",
    "Trending",
    "Trending now",
    "More from World",
    "Most read",
    "Recommended for you",
    "Don't miss",
)
_FIRST_NAMES = ("Jane", "John", "Amira", "Tomasz", "Li", "Priya", "Carlos", "Olga", "Kwame")
_LAST_NAMES = ("Doe", "Roe", "Haddad", "Nowak", "Wei", "Sharma", "Mendes", "Petrova", "Mensah")
_AGENCIES = ("Reuters", "AP", "AFP", "Bloomberg")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ZONES = ("BST", "GMT", "EDT", "CET", "IST")
_FIRST_DATE = datetime(2018, 1, 1)
_DATE_SPAN_DAYS = 7 * 365


@dataclass(frozen=True)
class Article:
    """A real article from the dev set: its gold paragraphs and a cleaned-up page title."""

    id: str
    url: str
    title: str | None
    paragraphs: tuple[str, ...]


@dataclass
class LabelledDoc:
    """A generated scraped-text document and what a perfect cleaner would return for it."""

    name: str
    text: str
    gold_body: str
    """The body paragraphs to keep, separated by blank lines."""
    gold_title: str | None
    """The planted title line, or None when the file has none."""
    gold_published: datetime | None
    """The planted publication date (the "Updated" one if that is all there is); naive."""
    gold_author: str | None
    noise: tuple[str, ...]
    sources: tuple[str, ...] = field(default_factory=tuple)
    """Ids of the dev-set articles the body was taken from."""

    def to_json(self) -> dict[str, object]:
        """A JSON-ready record (dates as ISO strings)."""
        record = asdict(self)
        record["gold_published"] = self.gold_published.isoformat() if self.gold_published else None
        return record


def default_data_dir() -> Path:
    """$DROPSIFT_BENCH_DATA, else <repo>/../shared/data."""
    env = os.environ.get(DATA_ENV)
    return Path(env) if env else _REPO_ROOT.parent / "shared" / "data"


def ground_truth_path(data_dir: Path | None = None) -> Path:
    """Where the dev set's gold bodies are."""
    return (data_dir or default_data_dir()) / DEV_SET / "ground-truth.json"


def load_articles(data_dir: Path | None = None) -> tuple[Article, ...]:
    """The dev set's articles, sorted by id (so a seed means the same thing on every machine)."""
    return _load_articles((data_dir or default_data_dir()).resolve())


@cache
def _load_articles(data_dir: Path) -> tuple[Article, ...]:
    gold = json.loads((data_dir / DEV_SET / "ground-truth.json").read_text(encoding="utf-8"))
    articles = []
    for article_id in sorted(gold):
        paragraphs = tuple(
            _SPACES.sub(" ", p).strip()
            for p in gold[article_id]["articleBody"].split("\n")
            # Zero-width-only or empty lines carry no text a cleaner could keep.
            if _WORD.search(p)
        )
        if paragraphs:
            title = _page_title(data_dir / DEV_SET / "html" / f"{article_id}.html.gz")
            articles.append(Article(article_id, gold[article_id]["url"], title, paragraphs))
    return tuple(articles)


def _page_title(path: Path) -> str | None:
    """The page's <title> without the site suffix, if it reads like a headline."""
    if not path.exists():
        return None
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as page:
        match = _TITLE_TAG.search(page.read(200_000))
    if not match:
        return None
    title = _SPACES.sub(" ", html.unescape(match[1])).strip()
    while (stripped := _SITE_SUFFIX.sub("", title)) != title and len(stripped.split()) >= 4:
        title = stripped
    if (
        len(title.split()) < _MIN_TITLE_WORDS
        or len(title) > _MAX_TITLE_CHARS
        or _BAD_TITLE_END.search(title)
    ):
        return None
    return title


def news_documents(
    n: int,
    seed: int,
    data_dir: Path | None = None,
    target_chars: int = TARGET_CHARS,
) -> Iterator[LabelledDoc]:
    """Yield `n` noisy news-sized documents; document i depends only on (seed, i)."""
    articles = load_articles(data_dir)
    order = list(range(len(articles)))
    random.Random(f"order:{seed}").shuffle(order)
    for index in range(n):
        rng = random.Random(f"doc:{seed}:{index}")
        # Cycle through every article before reusing one, so small sets cover the dev set.
        main = articles[order[index % len(order)]]
        yield _make_document(rng, index, main, articles, target_chars)


def generate_labelled(n: int, seed: int, data_dir: Path | None = None) -> list[LabelledDoc]:
    """`n` labelled documents for the text-quality benchmark."""
    return list(news_documents(n, seed, data_dir))


def write(docs: Sequence[LabelledDoc], folder: Path, gold: Path | None = None) -> list[Path]:
    """Write each document as <name>.txt in `folder` (and the labels as JSON lines to `gold`)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for doc in docs:
        path = folder / f"{doc.name}.txt"
        path.write_text(doc.text, encoding="utf-8")
        paths.append(path)
    if gold is not None:
        # Labels live apart from the .txt files: an inbox would ingest a .json beside them.
        gold.parent.mkdir(parents=True, exist_ok=True)
        with gold.open("w", encoding="utf-8") as out:
            for doc in docs:
                out.write(json.dumps(doc.to_json(), ensure_ascii=False) + "\n")
    return paths


# --- one document -----------------------------------------------------------------------------


def _make_document(
    rng: random.Random,
    index: int,
    main: Article,
    articles: Sequence[Article],
    target_chars: int,
) -> LabelledDoc:
    """Build one document: body, header, interleaved and trailing furniture, layout."""
    noise: list[str] = []
    others = [a for a in articles if a.id != main.id]
    paragraphs, sources = _body(rng, main, others, target_chars, noise)
    gold_body = "\n\n".join(paragraphs)

    header, gold_title, gold_published, gold_author = _header(rng, main, noise)
    headlines = [a.title for a in others if a.title]
    body_blocks = _interleave(rng, paragraphs, headlines, noise)
    tail = _tail(rng, paragraphs, headlines, noise)

    blocks = header + body_blocks + tail
    text = _layout(rng, blocks, noise)
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]
    return LabelledDoc(
        name=f"{index:05d}_{digest}",
        text=text,
        gold_body=gold_body,
        gold_title=gold_title,
        gold_published=gold_published,
        gold_author=gold_author,
        noise=tuple(sorted(set(noise))),
        sources=tuple(sources),
    )


def _body(
    rng: random.Random,
    main: Article,
    others: Sequence[Article],
    target_chars: int,
    noise: list[str],
) -> tuple[list[str], list[str]]:
    """A run of the article's paragraphs, sometimes topped up from a second article."""
    budget = rng.randint(target_chars * 3 // 5, target_chars)
    start = 0 if rng.random() < 0.7 else rng.randrange(len(main.paragraphs))
    # A scraped story starts with a lead, not a sub-heading or a list item, whatever the cut.
    while start and not _LEAD.search(main.paragraphs[start]):
        start = (start + 1) % len(main.paragraphs)
    paragraphs = _take(main.paragraphs[start:], budget)
    sources = [main.id]
    used = sum(len(p) for p in paragraphs)
    # Short articles are topped up from another one, so sizes stay news-like and paragraph
    # mixes vary beyond the 61 originals.
    if used < budget // 2 or rng.random() < 0.15:
        extra = rng.choice(others)
        more = _take(extra.paragraphs, max(budget - used, 600))
        if more:
            paragraphs += more
            sources.append(extra.id)
            noise.append(RECOMBINED)
    return paragraphs, sources


def _take(paragraphs: Sequence[str], budget: int) -> list[str]:
    """Leading paragraphs up to about `budget` characters (at least one)."""
    taken: list[str] = []
    used = 0
    for paragraph in paragraphs:
        if taken and used + len(paragraph) > budget:
            break
        taken.append(paragraph)
        used += len(paragraph)
    return taken


def _header(
    rng: random.Random, main: Article, noise: list[str]
) -> tuple[list[str], str | None, datetime | None, str | None]:
    """Header lines (as blocks) and the title, date and author they plant."""
    blocks: list[str] = []
    if rng.random() < 0.5:
        blocks += rng.sample(_JUNK_HEADER_LINES, rng.randint(1, 2))
        noise.append(JUNK_HEADER)
    if rng.random() < 0.5:
        blocks.append(rng.choice(_SECTIONS))
        noise.append(SECTION_LABEL)
    title = main.title if main.title and rng.random() < 0.75 else None
    if title:
        blocks.append(title)
        noise.append(TITLE)
    author = None
    if rng.random() < 0.4:
        author, line = _byline(rng)
        blocks.append(line)
        noise.append(BYLINE)
    published = None
    if rng.random() < 0.7:
        published, lines = _date_lines(rng)
        blocks += lines
        noise.append(DATE)
        if len(lines) > 1 or lines[0].lower().startswith(("updated", "last updated")):
            noise.append(UPDATED_DATE)
    if rng.random() < 0.2:
        blocks.append(rng.choice(("3 min read", "Listen to this article", "Share this article")))
        noise.append(JUNK_HEADER)
    return blocks, title, published, author


def _byline(rng: random.Random) -> tuple[str, str]:
    """(author, line) such as ("Jane Doe and Li Wei, Reuters", "By Jane Doe and Li Wei, ...")."""
    first = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
    kind = rng.randrange(3)
    if kind == 0:
        author = first
    elif kind == 1:
        author = f"{first} and {rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
    else:
        author = f"{first}, {rng.choice(_AGENCIES)}"
    return author, f"By {author}"


def _date_lines(rng: random.Random) -> tuple[datetime, list[str]]:
    """A date line (or two) in one of the formats real sites use, and the date it means."""
    day = _FIRST_DATE + timedelta(days=rng.randrange(_DATE_SPAN_DAYS))
    timed = day.replace(hour=rng.randrange(24), minute=rng.randrange(60))
    d, m, y = day.day, day.month, day.year
    month, mon = _MONTHS[m - 1], _MONTHS[m - 1][:3]
    hour12 = (
        f"{(timed.hour - 1) % 12 + 1:02d}:{timed.minute:02d} {'AM' if timed.hour < 12 else 'PM'}"
    )
    hhmm = f"{timed.hour:02d}:{timed.minute:02d}"
    zone = rng.choice(_ZONES)
    formats: list[tuple[datetime, str]] = [
        (timed, f"Published : {d:02d} {mon} {y} {hour12}"),
        (day, f"Published on {month} {d}, {y}"),
        (day, f"Published: {d} {month} {y}"),
        (timed, f"Published {d} {month} {y}, {hhmm}"),
        (day, f"Posted: {d:02d}/{m:02d}/{y}"),
        (day, f"{month} {d}, {y}"),
        (day, f"{y}-{m:02d}-{d:02d}"),
        (
            timed,
            f"{_WEEKDAYS[day.weekday()][:3]} {d} {mon} {y} {hhmm.replace(':', '.')} {zone}",
        ),
        (timed, f"{month} {d}, {y} {hour12} {zone}"),
        (day, f"Updated: {month} {d}, {y}"),
        (timed, f"Last updated: {d} {month} {y} {hhmm}"),
        (day, f"{_WEEKDAYS[day.weekday()]}, {d} {month} {y}"),
    ]
    date, line = rng.choice(formats)
    lines = [line]
    if rng.random() < 0.2:
        # Published and updated: the publication date is the one to keep, whatever the order.
        later = day + timedelta(days=rng.randint(1, 3))
        updated = f"Updated: {_MONTHS[later.month - 1]} {later.day}, {later.year}"
        published = f"Published: {d} {month} {y}"
        lines = [updated, published] if rng.random() < 0.5 else [published, updated]
        date = day
    return date, lines


def _interleave(
    rng: random.Random, paragraphs: list[str], headlines: Sequence[str], noise: list[str]
) -> list[str]:
    """The body paragraphs with ads, share prompts and link blocks between some of them."""
    if rng.random() < 0.2:
        paragraphs = [_drop_sentence_space(rng, p) for p in paragraphs]
        noise.append(MISSING_SPACE)
    # Each paragraph as its pieces: one, or two where a blank line cuts a sentence.
    pieces = [[p] for p in paragraphs]
    if rng.random() < 0.3 and _break_sentences(rng, pieces):
        noise.append(BROKEN_SENTENCE)
    inserts: dict[int, list[str]] = {}
    # Furniture goes between paragraphs, never between the halves of a cut sentence.
    gaps = list(range(1, len(pieces)))
    if gaps and rng.random() < 0.3:
        for gap in rng.sample(gaps, min(len(gaps), rng.randint(1, 3))):
            inserts.setdefault(gap, []).append(rng.choice(("Advertisement", "ADVERTISEMENT", "Ad")))
        noise.append(AD_BREAKS)
    if gaps and rng.random() < 0.25:
        inserts.setdefault(rng.choice(gaps), []).append(rng.choice(_SHARE_LINES))
        noise.append(SHARE_PROMPTS)
    if gaps and rng.random() < 0.2:
        inserts.setdefault(rng.choice(gaps), []).append(f"Read more: {rng.choice(headlines)}")
        noise.append(INLINE_READ_MORE)
    if gaps and rng.random() < 0.2:
        inserts.setdefault(rng.choice(gaps), []).extend(_related_block(rng, headlines))
        noise.append(RELATED_MID_BODY)
    blocks: list[str] = []
    for position, paragraph_pieces in enumerate(pieces):
        blocks += inserts.get(position, [])
        blocks += paragraph_pieces
    return blocks


def _break_sentences(rng: random.Random, pieces: list[list[str]]) -> bool:
    """Cut one to three paragraphs in two mid-sentence, as a blank line would (seed 003)."""
    cut_any = False
    for _ in range(rng.randint(1, 3)):
        paragraph_pieces = rng.choice(pieces)
        paragraph = paragraph_pieces[-1]
        cuts = [m.start() for m in _CUT_BEFORE_LOWER.finditer(paragraph)]
        cuts += [
            m.start()
            for m in _CUT_AFTER_SENTENCE.finditer(paragraph)
            if paragraph.count("“", 0, m.start()) > paragraph.count("”", 0, m.start())
        ]
        if cuts:
            cut = rng.choice(cuts)
            # Scrapers often leave the NBSP that preceded the break (seed 003 does).
            pad = "\u00a0" if rng.random() < 0.5 else ""
            paragraph_pieces[-1:] = [paragraph[:cut] + pad, paragraph[cut + 1 :]]
            cut_any = True
    return cut_any


def _drop_sentence_space(rng: random.Random, paragraph: str) -> str:
    """Lose the space after one sentence ("incident.The latest"), sometimes."""
    spaces = list(_SENTENCE_SPACE.finditer(paragraph))
    if not spaces or rng.random() < 0.5:
        return paragraph
    at = rng.choice(spaces).start()
    return paragraph[: at + 1] + paragraph[at + 2 :]


def _related_block(rng: random.Random, headlines: Sequence[str]) -> list[str]:
    """A related-links heading and 3-6 headlines of other stories."""
    count = min(len(headlines), rng.randint(3, 6))
    return [rng.choice(_RELATED_HEADINGS), *rng.sample(list(headlines), count)]


def _tail(
    rng: random.Random, paragraphs: list[str], headlines: Sequence[str], noise: list[str]
) -> list[str]:
    """What follows the body: a repeat of it, prompts, related links, footer lines."""
    blocks: list[str] = []
    if len(paragraphs) > 2 and rng.random() < 0.25:
        # Seed 000: the whole body again, sometimes without its lead.
        blocks += paragraphs[rng.randint(0, 1) :]
        noise.append(REPEATED_BODY)
    elif len(paragraphs) > 3 and rng.random() < 0.15:
        start = rng.randrange(len(paragraphs) - 2)
        blocks += paragraphs[start : start + rng.randint(2, 3)]
        noise.append(PARTIAL_REPEAT)
    if rng.random() < 0.35:
        blocks += rng.sample(_SHARE_LINES, rng.randint(1, 2))
        noise.append(SHARE_PROMPTS)
    if rng.random() < 0.5:
        blocks += _related_block(rng, headlines)
        noise.append(RELATED_LINKS)
    if rng.random() < 0.3:
        blocks += rng.sample(_FOOTER_LINES, rng.randint(1, 3))
        noise.append(FOOTER)
    return blocks


def _layout(rng: random.Random, blocks: list[str], noise: list[str]) -> str:
    """Join blocks with blank lines or single newlines, hard-wrap and mangle encoding."""
    if rng.random() < 0.3:
        width = rng.randint(70, 80)
        blocks = [
            "\n".join(textwrap.wrap(b, width, break_long_words=False, break_on_hyphens=False))
            for b in blocks
        ]
        noise.append(HARD_WRAP)
    single = rng.random() < 0.25
    if single:
        noise.append(SINGLE_NEWLINES)
    parts: list[str] = []
    for block in blocks:
        if parts:
            # Scrapers are uneven about spacing: mostly one blank line, sometimes two.
            parts.append("\n" if single else rng.choice(("\n\n", "\n\n", "\n\n\n")))
        parts.append(block)
    text = "".join(parts)
    if "’" in text and rng.random() < 0.1:
        # UTF-8 read as cp1252 and saved again: the classic "â€™".
        text = text.replace("’", "’".encode().decode("cp1252"))
        noise.append(MOJIBAKE)
    return text


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: write N generated documents to a folder."""
    parser = argparse.ArgumentParser(prog="python -m bench.corpus", description=__doc__)
    parser.add_argument("out", type=Path, help="folder for the .txt files")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=None, help=f"default ${DATA_ENV}")
    parser.add_argument("--chars", type=int, default=TARGET_CHARS, help="body size target")
    parser.add_argument("--gold", type=Path, default=None, help="write labels as JSON lines")
    args = parser.parse_args(argv)
    docs = list(news_documents(args.n, args.seed, args.data, args.chars))
    paths = write(docs, args.out, args.gold)
    size = sum(len(d.text.encode("utf-8")) for d in docs) / max(len(paths), 1) / 1000
    print(f"wrote {len(paths)} documents ({size:.1f} KB each) to {args.out}")


if __name__ == "__main__":
    main()
