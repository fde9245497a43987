"""Job-title fragments: "Defence" of "Defence Minister Rustem Umerov" is not an organisation."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tasks.enrichers.mentions import Mention

# The small model takes the portfolio word before a title for an organisation.
_TITLE_AFTER = re.compile(
    r"\s+(?:Deputy\s+)?(?:Minister|Secretary|Secretary-General|Chief|Spokesperson|Spokesman|"
    r"Spokeswoman|Commissioner|Adviser|Advisor|Envoy|Ambassador|Official|Officials|Chair|Head)\b",
    re.IGNORECASE,
)


def drop_title_fragments(text: str, mentions: Iterable[Mention]) -> list[Mention]:
    """Mentions without one-word organisations that are the first word of a job title."""
    return [
        m
        for m in mentions
        if not (m.kind == "org" and " " not in m.text and _TITLE_AFTER.match(text, m.end))
    ]
