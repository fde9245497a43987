"""Titles with the site's name: how many a first Scrapy spider's items carry, and after dropsift.

    python -m bench.titles

Each dev page is taken as a spider yields it (`title` is the page's <title>, `html` the
page), through extraction, the item's fields and the title rules (no per-site learning:
the dev pages come from different sites). A title "carries the site's name" when a segment
at either end, set off by " - ", " | ", " – " or " — ", is the page's og:site_name (case,
spaces and punctuation aside) — a stricter test than the rules' own, so it does not grade
itself.
"""

from __future__ import annotations

import re

from bench.html_quality import default_data_dir, load_pages
from tasks.errors import Rejected
from tasks.extract import html_document
from tasks.formats.fields import DEFAULT_FIELDS
from tasks.formats.items import item_document
from tasks.titles import clean_title


def _key(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def carries(title: str, site_name: str | None) -> bool:
    """Whether a segment at either end of the title is the site's name."""
    if not site_name or not _key(site_name):
        return False
    parts = re.split(r"\s+[-|–—]\s+", title.strip())
    return len(parts) > 1 and _key(site_name) in (_key(parts[0]), _key(parts[-1]))


def main() -> None:
    pages = load_pages(default_data_dir())
    carried = kept = emptied = changed = refused = 0
    left: list[str] = []
    for page in pages:
        try:
            page_title = html_document(page.id, page.html).title_hints.get("page_title", "")
            item = {"url": f"https://example.test/{page.id}", "title": page_title}
            doc = item_document(page.id, {**item, "html": page.html}, DEFAULT_FIELDS, html_document)
        except Rejected:
            refused += 1
            continue
        site_name = doc.title_hints.get("site_name")
        title = clean_title(doc.title or "", doc.title_hints, doc.site)
        changed += title != doc.title
        emptied += not title.strip()
        if carries(page_title, site_name):
            carried += 1
            if carries(title, site_name):
                kept += 1
                left.append(title)
    print(
        f"{len(pages)} dev pages ({refused} without an article): {carried} <title>s carry the "
        f"site's name (og:site_name); after the title rules {kept} still do; "
        f"{changed} titles changed, {emptied} stripped to nothing"
    )
    for title in left:
        print(f"  still: {title}")


if __name__ == "__main__":
    main()
