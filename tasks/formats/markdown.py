"""Markdown: front matter becomes fields, the text loses its markup."""

from __future__ import annotations

import re

import frontmatter
import yaml

from tasks.document import Document
from tasks.errors import Rejected
from tasks.formats.fields import apply_fields

_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_HEADING = re.compile(r"^#{1,6}\s+", re.MULTILINE)
_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1")
_FENCE = re.compile(r"^(```|~~~).*$", re.MULTILINE)
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$", re.MULTILINE)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def strip_markup(text: str) -> str:
    """Plain text of a Markdown document: links keep their text, images and rules go."""
    text = _HTML_COMMENT.sub("", text)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _HEADING.sub("", text)
    text = _FENCE.sub("", text)
    text = _RULE.sub("", text)
    return _EMPHASIS.sub(r"\2", text)


def extract_markdown(source: str, text: str) -> Document:
    """A Markdown file; YAML front matter (title, date, author, url, ...) becomes fields."""
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        raise Rejected("bad_front_matter", f"front matter is not valid YAML: {exc}") from exc
    doc = Document(source=source, text=strip_markup(post.content), format="md")
    return apply_fields(doc, dict(post.metadata), origin="front_matter")
