"""Unit tests for the cleaning stage: the two real seed files and each rule on small strings."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from tasks.clean import CLEANER_VERSION, clean
from tasks.document import Document

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
SEED_000 = SEEDS / "000_2fa40668a4e6c1c4.txt"
SEED_003 = SEEDS / "003_0fcbdef7ffe9cfd8.txt"

PROSE = (
    "The council approved the new budget on Tuesday after a long debate about road repairs.\n\n"
    "Officials said the money would be spent over three years, starting with the ring road.\n\n"
    "Residents were invited to comment on the plans until the end of the month."
)


def run(text: str, source: str = "/data/in/sample_story.txt") -> Document:
    """Clean a document built from raw text."""
    return clean(Document(source=source, text=text))


def paragraphs(doc: Document) -> list[str]:
    """The body's paragraphs."""
    return doc.body.split("\n\n") if doc.body else []


def all_removed(doc: Document) -> list[str]:
    """Every removed line, whatever its reason."""
    return [line for lines in doc.cleaning["removed"].values() for line in lines]


@pytest.fixture(scope="module")
def seed_000() -> Document:
    """Seed 000 cleaned: a body printed twice, followed by a related-links block."""
    return clean(Document(source=str(SEED_000), text=SEED_000.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def seed_003() -> Document:
    """Seed 003 cleaned: widget and section lines, title, date line, broken sentences."""
    return clean(Document(source=str(SEED_003), text=SEED_003.read_text(encoding="utf-8")))


# --- seed 000 ---------------------------------------------------------------------------------


def test_000_each_paragraph_once(seed_000: Document) -> None:
    """The doubled body comes out once: 14 distinct paragraphs, 13 repeats removed."""
    paras = paragraphs(seed_000)
    assert len(paras) == 14
    assert len({p.casefold() for p in paras}) == len(paras)
    assert len(seed_000.cleaning["removed"]["repeated_paragraph"]) == 13
    assert seed_000.body.count("Sergiy Kyslytsya") == 1
    assert seed_000.body.startswith("Delegations from Ukraine and Russia met in Istanbul")
    assert seed_000.body.endswith("stronger sanctions against Russia would be urgently needed.")


def test_000_about_half_the_characters_remain(seed_000: Document) -> None:
    """About 3.3k of 6.8k characters remain, and the record says so."""
    record = seed_000.cleaning
    assert record["chars_before"] == len(SEED_000.read_text(encoding="utf-8"))
    assert 6700 <= record["chars_before"] <= 6900
    assert record["chars_after"] == len(seed_000.body)
    assert 3200 <= record["chars_after"] <= 3400


def test_000_related_links_gone(seed_000: Document) -> None:
    """'You may also like' and its five unrelated headlines are removed and listed."""
    for name in (
        "You may also like",
        "UAE",
        "Gavai",
        "Dharmendra Pradhan",
        "Susanna Reid",
        "Wales",
    ):
        assert name not in seed_000.body
    related = seed_000.cleaning["removed"]["related_links"]
    assert related[0] == "You may also like"
    assert len(related) == 6


def test_000_title_from_first_sentence_and_no_date(seed_000: Document) -> None:
    """No title or date line: title from the first sentence (word-boundary cut), no date."""
    assert seed_000.title_from == "first_sentence"
    assert seed_000.title is not None
    assert seed_000.title.startswith("Delegations from Ukraine and Russia met in Istanbul")
    assert len(seed_000.title) <= 121
    assert seed_000.title.endswith("…")
    assert seed_000.title[:-1] in seed_000.body  # cut on a word boundary of the real text
    assert seed_000.published is None
    assert seed_000.published_from is None
    assert seed_000.section is None
    assert seed_000.author is None


def test_000_body_format(seed_000: Document) -> None:
    """Paragraphs separated by exactly one blank line, no stray whitespace."""
    assert seed_000.body == seed_000.body.strip()
    assert "\n\n\n" not in seed_000.body
    assert all(p == p.strip() and "\n" not in p for p in paragraphs(seed_000))


# --- seed 003 ---------------------------------------------------------------------------------


def test_003_clicky_and_section_label(seed_003: Document) -> None:
    """'Clicky' and 'World' leave the body; 'World' becomes the section."""
    lines = seed_003.body.split("\n")
    assert "Clicky" not in seed_003.body
    assert "World" not in lines
    assert seed_003.section == "World"
    removed = seed_003.cleaning["removed"]
    assert removed["junk_line"] == ["Clicky"]
    assert removed["section_label"] == ["World"]


def test_003_title_line(seed_003: Document) -> None:
    """The title line becomes the title and leaves the body."""
    title = "Ukraine, Russia resume peace talks in Turkey amid low hopes for breakthrough"
    assert seed_003.title == title
    assert seed_003.title_from == "text"
    assert title not in seed_003.body
    assert seed_003.cleaning["removed"]["title_line"] == [title]


def test_003_date_line(seed_003: Document) -> None:
    """'Published : 02 Jun 2025 09:29 PM' gives a naive 2025-06-02 21:29 and leaves the body."""
    assert seed_003.published == datetime(2025, 6, 2, 21, 29)
    assert seed_003.published is not None and seed_003.published.tzinfo is None
    assert seed_003.published_from == "text"
    assert "Published" not in seed_003.body
    assert seed_003.cleaning["removed"]["date_line"] == ["Published : 02 Jun 2025 09:29 PM"]


def test_003_body_starts_with_the_lead(seed_003: Document) -> None:
    """After the header comes the first real paragraph."""
    assert seed_003.body.startswith("Ukrainian and Russian delegations met in Turkey on Monday")


def test_003_cut_sentences_joined(seed_003: Document) -> None:
    """Hard breaks inside a sentence or an open quotation are joined with one space."""
    assert "on either side, a negotiated settlement remains elusive." in seed_003.body
    assert "would have hit the building. A few more minutes — and cars" in seed_003.body
    assert "either\n" not in seed_003.body
    assert "building.\n" not in seed_003.body


def test_003_missing_space_inserted(seed_003: Document) -> None:
    """'incident.The latest' becomes 'incident. The latest'."""
    assert "incident. The latest" in seed_003.body
    assert "incident.The" not in seed_003.body


def test_003_other_paragraphs_kept(seed_003: Document) -> None:
    """Real paragraph breaks survive; nothing else is removed; NBSP and '1 p.m.' intact."""
    paras = paragraphs(seed_003)
    assert len(paras) == 11
    assert paras[3] == (
        "Despite the diplomatic engagement, both sides appear far apart on the core issues "
        "needed to halt the fighting."
    )
    assert "\u00a0" not in seed_003.body
    assert "at 1 p.m. local time" in seed_003.body
    assert set(seed_003.cleaning["removed"]) == {
        "junk_line",
        "section_label",
        "title_line",
        "date_line",
    }


def test_cleaning_record_shape(seed_003: Document) -> None:
    """The record has version, character counts and removed lines by reason."""
    record = seed_003.cleaning
    assert record["version"] == CLEANER_VERSION
    assert record["chars_after"] == len(seed_003.body)
    assert record["chars_before"] == len(seed_003.text)
    assert all(isinstance(v, list) and v for v in record["removed"].values())


def test_clean_is_pure(seed_003: Document) -> None:
    """clean() returns a new document and leaves the input untouched."""
    doc = Document(source=str(SEED_003), text=SEED_003.read_text(encoding="utf-8"))
    cleaned = clean(doc)
    assert cleaned is not doc
    assert doc.body == "" and doc.title is None and doc.cleaning == {}
    assert cleaned.text == doc.text
    assert clean(doc) == cleaned


# --- generic rules ----------------------------------------------------------------------------


def test_prose_untouched() -> None:
    """Normal prose with real paragraph breaks comes out exactly as it went in."""
    doc = run(PROSE)
    assert doc.body == PROSE
    assert doc.cleaning["removed"] == {}


def test_single_newline_paragraphs_become_blank_line_separated() -> None:
    """One paragraph per line (as in seed 000) is normalised to blank-line separation."""
    assert run(PROSE.replace("\n\n", "\n")).body == PROSE


def test_abbreviations_decimals_urls_not_split() -> None:
    """'U.S.', 'e.g.', '3.5', 'example.com' and URLs keep their periods unspaced."""
    text = (
        "The U.S. economy grew 3.5 percent, e.g. in retail. See example.com for data.\n\n"
        "Details at https://news.example.org/story.Html and www.site.com/path.Index today."
    )
    assert run(text).body == text


def test_missing_space_after_period() -> None:
    """A lowercase word, a period and a capitalised word get their space back."""
    assert run("It rained all day.Then the sun came out.").body == (
        "It rained all day. Then the sun came out."
    )


def test_cut_sentence_joined_across_blank_line() -> None:
    """A paragraph without terminal punctuation followed by a lowercase start is joined."""
    doc = run("The minister said talks would continue on\n\nMonday and\n\ntuesday as planned.")
    assert doc.body == "The minister said talks would continue on Monday and tuesday as planned."


def test_open_quotation_joined() -> None:
    """A paragraph that leaves a quote open and one that closes it are one paragraph."""
    doc = run("He said: “We will stay here.\n\nWe will not move.” Then he left the room.")
    assert doc.body == "He said: “We will stay here. We will not move.” Then he left the room."


def test_multi_paragraph_quote_convention_kept() -> None:
    """A quote continued in a new paragraph that re-opens with “ is a real paragraph break."""
    text = "“We will stay here for as long as it takes.\n\n“We will not move,” he said."
    assert paragraphs(run(text)) == text.split("\n\n")


def test_uppercase_after_unpunctuated_line_not_joined() -> None:
    """A short heading-like line inside the body stays its own paragraph."""
    text = PROSE + "\n\nWhat happens next\n\nThe plans go to a public vote in September."
    assert paragraphs(run(text))[-2:] == [
        "What happens next",
        "The plans go to a public vote in September.",
    ]


@pytest.mark.parametrize(
    "junk",
    [
        "Clicky",
        "Advertisement",
        "ADVERTISEMENT",
        "Share this article",
        "Share on Facebook",
        "Facebook Twitter WhatsApp Email",
        "Follow us on Twitter",
        "Subscribe to our newsletter",
        "We use cookies to improve your experience. Accept all cookies",
        "Accept cookies",
        "Skip to content",
        "3 min read",
    ],
)
def test_junk_lines_removed(junk: str) -> None:
    """Widget / share / subscribe / cookie lines anywhere are removed as junk_line."""
    doc = run(PROSE.replace("\n\n", f"\n\n{junk}\n\n", 1))
    assert doc.body == PROSE
    assert doc.cleaning["removed"] == {"junk_line": [junk]}


def test_sentences_about_cookies_or_ads_are_kept() -> None:
    """Prose that merely mentions widgets' words is not junk."""
    text = (
        "Advertisement revenue fell sharply, the company said on Friday.\n\n"
        "Follow us on this journey, the founder wrote in a letter to staff, as the firm "
        "shifted its focus from cookies to cakes.\n\n"
        "Share prices rose 3.5 percent in early trading."
    )
    doc = run(text)
    assert doc.body == text
    assert doc.cleaning["removed"] == {}


def test_section_label_title_date_byline() -> None:
    """Header lines become fields and leave the body, each under its reason."""
    text = (
        "Business\n\nFactory output jumps to a two-year high\n\nBy Jane Doe and John Roe, Reuters\n"
        "Published on June 2, 2025\n\n" + PROSE
    )
    doc = run(text)
    assert doc.body == PROSE
    assert doc.section == "Business"
    assert doc.title == "Factory output jumps to a two-year high"
    assert doc.title_from == "text"
    assert doc.author == "Jane Doe and John Roe, Reuters"
    assert doc.published == datetime(2025, 6, 2)
    assert doc.published_from == "text"
    assert doc.cleaning["removed"] == {
        "section_label": ["Business"],
        "title_line": ["Factory output jumps to a two-year high"],
        "byline": ["By Jane Doe and John Roe, Reuters"],
        "date_line": ["Published on June 2, 2025"],
    }


def test_only_first_section_label_is_section() -> None:
    """Two labels before the title are both removed; the first is the section."""
    doc = run("World\nEurope\nLeaders meet in Brussels\n\n" + PROSE)
    assert doc.section == "World"
    assert doc.title == "Leaders meet in Brussels"
    assert doc.cleaning["removed"]["section_label"] == ["World", "Europe"]
    assert doc.body == PROSE


def test_lone_label_before_prose_is_the_section() -> None:
    """A one-word label followed straight by prose is the section; title from the body."""
    doc = run("Sport\n\n" + PROSE)
    assert doc.section == "Sport"
    assert doc.title_from == "first_sentence"
    assert doc.body == PROSE


def test_second_label_without_title_after_is_the_title() -> None:
    """'World' then 'Ukraine Talks' then prose: section World, title Ukraine Talks."""
    doc = run("World\nUkraine Talks\n\n" + PROSE)
    assert doc.section == "World"
    assert doc.title == "Ukraine Talks"
    assert doc.body == PROSE


def test_interview_turns_are_not_titles() -> None:
    """'Q: ...' lines in a transcript stay in the body."""
    text = "Q: What happens now?\n\nA: We wait for the vote in September."
    doc = run(text)
    assert doc.body == text
    assert doc.title_from == "first_sentence"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Published : 02 Jun 2025 09:29 PM", datetime(2025, 6, 2, 21, 29)),
        ("Updated: 3 June 2025", datetime(2025, 6, 3)),
        ("Published on June 2, 2025", datetime(2025, 6, 2)),
        ("Posted: 04/06/2025", datetime(2025, 6, 4)),
        ("June 2, 2025", datetime(2025, 6, 2)),
    ],
)
def test_date_lines(line: str, expected: datetime) -> None:
    """Date lines are parsed (day first when ambiguous) and removed as date_line."""
    doc = run(f"Some headline here\n{line}\n\n{PROSE}")
    assert doc.published == expected
    assert doc.published_from == "text"
    assert doc.cleaning["removed"]["date_line"] == [line]
    assert doc.body == PROSE


def test_published_beats_updated() -> None:
    """With both labels, the publication date wins; both lines are removed."""
    doc = run(f"Some headline here\nUpdated: 3 June 2025\nPublished: 1 June 2025\n\n{PROSE}")
    assert doc.published == datetime(2025, 6, 1)
    assert len(doc.cleaning["removed"]["date_line"]) == 2


def test_no_date_means_none() -> None:
    """Without a date line there is no published date; enrichment falls back later."""
    doc = run(PROSE)
    assert doc.published is None
    assert doc.published_from is None


def test_prose_starting_with_by_is_not_a_byline() -> None:
    """'By Monday, ...' is a sentence, not an author."""
    text = "By Monday, the two sides had agreed to meet again in Istanbul next week.\n\n" + PROSE
    doc = run(text)
    assert doc.author is None
    assert doc.body == text


def test_related_links_block_removed() -> None:
    """A related heading and the headlines after it go, until real prose resumes."""
    text = (
        PROSE + "\n\nRead more:\nMayor resigns after budget row\nNew bridge opens to traffic\n\n"
        "The council will publish the final budget documents on its website next week, a "
        "spokesperson confirmed."
    )
    doc = run(text)
    assert doc.cleaning["removed"]["related_links"] == [
        "Read more:",
        "Mayor resigns after budget row",
        "New bridge opens to traffic",
    ]
    assert doc.body.endswith("a spokesperson confirmed.")
    assert "Mayor" not in doc.body


def test_inline_read_more_link_removed() -> None:
    """'Read more: <headline>' on one line is a single related link."""
    doc = run(PROSE + "\n\nRead more: Mayor resigns after budget row")
    assert doc.body == PROSE
    assert doc.cleaning["removed"]["related_links"] == ["Read more: Mayor resigns after budget row"]


def test_repeated_paragraph_keeps_first() -> None:
    """A paragraph repeated (ignoring case and whitespace) is kept once, at first place."""
    first = PROSE.split("\n\n")[0]
    doc = run(PROSE + "\n\n" + first.upper().replace(" ", "  "))
    assert doc.body == PROSE
    assert len(doc.cleaning["removed"]["repeated_paragraph"]) == 1


def test_short_repeated_lines_kept() -> None:
    """Short repeats such as an interview's 'Thank you.' are not deduplicated."""
    text = "Thank you.\n\n" + PROSE + "\n\nThank you."
    assert run(text).body.count("Thank you.") == 2


def test_text_repair() -> None:
    """Mojibake, CRLF, NBSP, zero-width and space runs are repaired; quotes stay curly."""
    text = "The minister\u2019s \u201cplan\u201d   is\u00a0ready.\r\n\r\nIt cost\u200b a lot.\r\n"
    doc = run(text.replace("\u2019", "â€™"))
    assert doc.body == "The minister\u2019s \u201cplan\u201d is ready.\n\nIt cost a lot."


def test_title_from_first_sentence_short() -> None:
    """A short first sentence is the whole title, without its period; 'U.S.' does not end it."""
    doc = run("The U.S. team won again. Fans cheered in the streets for hours afterwards.")
    assert doc.title == "The U.S. team won again"
    assert doc.title_from == "first_sentence"


def test_boilerplate_only_gives_empty_body() -> None:
    """An input of nothing but furniture gives an empty body, title from the file name."""
    text = "Clicky\nAdvertisement\n\nShare this article\nYou may also like\nMayor resigns\n"
    doc = run(text, source="/data/in/2025-06-02_story.txt")
    assert doc.body == ""
    assert doc.title == "2025-06-02_story"
    assert doc.title_from == "filename"
    assert doc.cleaning["chars_after"] == 0
    assert sorted(all_removed(doc)) == sorted(line for line in text.split("\n") if line)


def test_empty_input() -> None:
    """Empty text gives an empty body and a file-name title."""
    doc = run("", source="/data/in/empty.txt")
    assert doc.body == ""
    assert doc.title == "empty"
    assert doc.title_from == "filename"
    assert doc.cleaning == {
        "version": CLEANER_VERSION,
        "chars_before": 0,
        "chars_after": 0,
        "removed": {},
    }


def test_relative_date_line_removed_without_date() -> None:
    """'Updated: 5 hours ago' is metadata, but gives no date (it would depend on the clock)."""
    doc = run(f"Some headline here\nUpdated: 5 hours ago\n\n{PROSE}")
    assert doc.published is None
    assert doc.published_from is None
    assert doc.cleaning["removed"]["date_line"] == ["Updated: 5 hours ago"]
    assert doc.body == PROSE


def test_date_line_below_the_header_removed() -> None:
    """A labelled date line at the end of the article is removed too."""
    doc = run(f"{PROSE}\n\nLast updated: 3 June 2025 10:15")
    assert doc.body == PROSE
    assert doc.published == datetime(2025, 6, 3, 10, 15)


def test_short_quoted_lead_is_not_a_title() -> None:
    """A short first paragraph ending in '.”' is prose, kept in the body."""
    text = "“We are ready to talk whenever they are.”\n\n" + PROSE
    doc = run(text)
    assert doc.body == text
    assert doc.title_from == "first_sentence"


def test_single_short_line_stays_in_body() -> None:
    """A document of one short line keeps it as its body (and takes its title from it)."""
    doc = run("Talks resume in Istanbul")
    assert doc.body == "Talks resume in Istanbul"
    assert doc.title == "Talks resume in Istanbul"
    assert doc.title_from == "first_sentence"
