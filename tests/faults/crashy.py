"""An enricher that kills its own process on a marked document: a file that always crashes."""

from __future__ import annotations

import os
import signal

from tasks.document import Document

POISON_MARKER = "poisonpill7f3a"


class Crashy:
    """Passes documents through, except that one holding POISON_MARKER kills the worker child."""

    name = "crashy"

    def enrich(self, docs: list[Document]) -> list[Document]:
        if any(POISON_MARKER in doc.body for doc in docs):
            os.kill(os.getpid(), signal.SIGKILL)
        return docs


class CrashyLate(Crashy):
    """The same in phase 2: the marked document is searchable, its enrichment kills the child."""

    name = "crashy_late"
    phase = 2
