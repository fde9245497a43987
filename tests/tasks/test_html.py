"""extract_html on small synthetic pages: metadata fields, furniture rules, rejections, parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree
from trafilatura.utils import INVALID_XML_CHARS, load_html

from tasks.clean import clean
from tasks.errors import Rejected
from tasks.formats.html import _XML_INVALID_CHARS, _parse_html, extract_html

PARAGRAPHS = [
    "The city council voted on Tuesday to expand the harbour ferry service to three new "
    "stops, ending a debate that has run for more than two years in the coastal town.",
    "Supporters said the extra routes would take hundreds of cars off the bridge each "
    "morning, while opponents warned that the cost of new piers had been underestimated.",
    "The first of the new stops is due to open in the spring, the council said, with the "
    "remaining two following before the end of next year if the budget allows it.",
    "Ferry operators welcomed the decision and said they would hire twenty more crew "
    "members to run the extended timetable from the start of the summer season.",
]

HEAD = """
<meta charset="utf-8">
<title>Council expands harbour ferry service | Example Times</title>
<meta property="og:title" content="Council expands harbour ferry service">
<meta property="og:url" content="https://www.example.com/news/ferry-service">
<link rel="canonical" href="https://www.example.com/news/ferry-service">
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2019-11-18T09:30:00Z">
<meta name="description" content="Three new stops for the harbour ferry.">
"""


def page(body: str, head: str = HEAD) -> str:
    """A complete HTML document around `body`."""
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


def article(extra_top: str = "", extra_bottom: str = "") -> str:
    """An article page with navigation and footer around the paragraphs."""
    paragraphs = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return page(
        '<nav><a href="/">Home</a> <a href="/news">News</a></nav>'
        f"<article><h1>Council expands harbour ferry service</h1>{extra_top}"
        f"{paragraphs}{extra_bottom}</article>"
        "<footer><p>© 2025 Example Times. All rights reserved.</p></footer>"
    )


def test_metadata_fields() -> None:
    doc = extract_html("/inbox/ferry.html", article())
    assert doc.source == "/inbox/ferry.html"
    assert doc.format == "html"
    assert doc.title == "Council expands harbour ferry service"
    assert doc.title_from == "metadata"
    assert doc.author == "Jane Doe"
    assert doc.url == "https://www.example.com/news/ferry-service"
    assert doc.site == "example.com"
    assert doc.published == datetime(2019, 11, 18, tzinfo=UTC)
    assert doc.published_from == "metadata"


def test_body_is_the_paragraphs_separated_by_blank_lines() -> None:
    doc = extract_html("ferry.html", article())
    assert doc.text == "\n\n".join(PARAGRAPHS)


def test_headline_and_heading_standfirst_are_dropped() -> None:
    doc = extract_html("ferry.html", article(extra_top="<h2>Three new stops by next year</h2>"))
    assert "Council expands" not in doc.text
    assert "Three new stops by next year" not in doc.text
    assert doc.text.startswith(PARAGRAPHS[0])


def test_footer_copyright_year_is_not_the_date() -> None:
    undated = article().replace(
        '<meta property="article:published_time" content="2019-11-18T09:30:00Z">', ""
    )
    doc = extract_html("ferry.html", undated)
    assert doc.published is None
    assert doc.published_from is None


def test_no_url_means_no_site() -> None:
    head = "<title>Council expands harbour ferry service</title>"
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    doc = extract_html("ferry.html", page(f"<article>{body}</article>", head))
    assert doc.url is None
    assert doc.site is None
    assert doc.author is None


def test_related_links_block_is_removed() -> None:
    related = (
        "<h3>Related stories</h3>"
        '<ul><li><a href="/a">Bridge tolls to rise in January</a></li>'
        '<li><a href="/b">New pier plans unveiled</a></li></ul>'
    )
    doc = extract_html("ferry.html", article(extra_bottom=related))
    assert "Bridge tolls" not in doc.text
    assert "New pier plans" not in doc.text
    assert "Related stories" not in doc.text
    assert doc.text.endswith(PARAGRAPHS[-1])


def test_inline_read_more_share_and_credit_lines_are_removed() -> None:
    middle = (
        "<p>READ MORE: Bridge tolls to rise in January</p>"
        "<p>Reporting team contributed to this report.</p>"
        "<p>Copyright Example Times 2019</p>"
    )
    html = article().replace(f"<p>{PARAGRAPHS[1]}</p>", f"<p>{PARAGRAPHS[1]}</p>{middle}")
    doc = extract_html("ferry.html", html)
    assert doc.text == "\n\n".join(PARAGRAPHS)


def test_newsletter_widget_headings_are_removed() -> None:
    widget = (
        "<h3>Morning Newsletter</h3><h4>Get the day's stories in your inbox.</h4>"
        "<h3>Thanks for signing up!</h3><h4>Keep an eye on your inbox.</h4>"
    )
    doc = extract_html("ferry.html", article(extra_bottom=widget))
    assert doc.text == "\n\n".join(PARAGRAPHS)


def test_script_only_page_is_rejected() -> None:
    html = page("<script>window.app = {render: function () { return 1; }};</script>")
    with pytest.raises(Rejected) as caught:
        extract_html("app.html", html)
    assert caught.value.reason == "no_content"


@pytest.mark.parametrize("html", ["", "   \n", "<html><body></body></html>", "<<<>>>"])
def test_empty_pages_are_rejected(html: str) -> None:
    with pytest.raises(Rejected) as caught:
        extract_html("empty.html", html)
    assert caught.value.reason == "no_content"


def test_broken_markup_still_yields_the_text() -> None:
    paragraphs = "".join(f"<p>{p}" for p in PARAGRAPHS)  # unclosed <p>s
    html = f"<html><head><title>Ferry</title><body><div><article>{paragraphs}</div><span>"
    doc = extract_html("broken.html", html)
    for paragraph in PARAGRAPHS:
        assert paragraph in doc.text


def test_output_is_deterministic() -> None:
    html = article(extra_top="<h2>Three new stops by next year</h2>")
    assert extract_html("a.html", html).text == extract_html("a.html", html).text


def test_pipeline_keeps_a_short_first_paragraph_of_html() -> None:
    # For scraped .txt a short first line is a title; in HTML the title came from metadata.
    html = article(extra_top="<p>Harbour Ferry Plans</p>")
    cleaned = clean(extract_html("ferry.html", html))
    assert cleaned.body.startswith("Harbour Ferry Plans\n\n")
    assert cleaned.title == "Council expands harbour ferry service"
    assert cleaned.published == datetime(2019, 11, 18, tzinfo=UTC)


def test_a_sentence_about_copyright_is_kept() -> None:
    sentence = "Copyright lawyers say the ruling will change how ferry timetables are published."
    html = article().replace(f"<p>{PARAGRAPHS[1]}</p>", f"<p>{PARAGRAPHS[1]}</p><p>{sentence}</p>")
    assert sentence in extract_html("ferry.html", html).text


@pytest.mark.parametrize(
    "html",
    [
        article(),
        # XHTML doctype on the first line: load_html rewrites it.
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n' + article(),
        # The same doctype and no line break at all.
        article().replace("<!DOCTYPE html>", "<!DOCTYPE html PUBLIC '-//W3C//DTD'>"),
        # A minified page: a plain doctype and no line break.
        page("".join(f"<p>{p}</p>" for p in PARAGRAPHS), head="<title>Ferry</title>"),
        "<html/>\n<head><title>Ferry</title></head><body><p>Text</p></body>",
        article().replace(PARAGRAPHS[0], PARAGRAPHS[0] + "\x0b\x1f\ufffe"),
        '<?xml version="1.0" encoding="utf-8"?>\n' + article(),
        "<div><p>A fragment</p><p>without an html tag</p></div>",
        "<p>one block, no html tag</p>",
        "\n\n   <html><body><p>Leading blank lines</p></body></html>",
    ],
)
def test_parse_html_builds_the_tree_load_html_builds(html: str) -> None:
    """The fast path of _parse_html is a shortcut, never a different parse."""
    expected = load_html(html)
    parsed = _parse_html(html)
    if expected is None:
        assert parsed is None
    else:
        assert parsed is not None
        assert etree.tostring(parsed) == etree.tostring(expected)


def test_parse_html_knows_every_character_load_html_strips() -> None:
    stripped = {chr(code) for code in range(0x10000) if INVALID_XML_CHARS.match(chr(code))}
    assert stripped == set(_XML_INVALID_CHARS)
