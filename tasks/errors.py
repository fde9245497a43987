"""Why a file cannot become a document: the reason is recorded with the quarantine entry."""

from __future__ import annotations


class Rejected(Exception):
    """The file's content cannot be indexed; retrying will not help."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class Transient(Exception):
    """A service failed in a way that may pass; the same work should be tried again later."""

    def __init__(self, message: str, paths: list[str] | None = None) -> None:
        super().__init__(message)
        self.paths = paths or []
        """The files still to be done."""
