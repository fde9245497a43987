"""The states of a file in the ledger, and the moves between them.

    (seen) ──▶ queued ──▶ processing ──▶ indexed | duplicate | quarantined | vanished
      │          ▲  ▲          │
      │          │  └──────────┘  an outage: the attempt is forgiven, the file waits
      │          └─ publish_failed (the queue was away; the watcher tries again)
      └──▶ quarantined  (refused at the door: unreadable, a link loop, outside the inbox)

    indexed | duplicate | quarantined ──▶ deleted   (the file left the inbox)
    any final state ──▶ queued                       (new content, or the file came back)

`indexed`, `duplicate` and `quarantined` are *settled*: that content was handled, and the
same content under the same name is not processed again. `vanished` and `deleted` are final
too, but say nothing about content that comes back: a file that reappears is new again.
"""

from __future__ import annotations

from enum import StrEnum


class FileState(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    PUBLISH_FAILED = "publish_failed"
    INDEXED = "indexed"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"
    VANISHED = "vanished"
    DELETED = "deleted"


TERMINAL = frozenset(
    {
        FileState.INDEXED,
        FileState.DUPLICATE,
        FileState.QUARANTINED,
        FileState.VANISHED,
        FileState.DELETED,
    }
)
"""Nothing more happens to the file until it changes or comes back."""

SETTLED = frozenset({FileState.INDEXED, FileState.DUPLICATE, FileState.QUARANTINED})
"""Final states that hold for the file's content: the same content is not processed again."""

IN_FLIGHT = frozenset({FileState.QUEUED, FileState.PROCESSING})
