"""Which Elasticsearch failures are worth another try: the one classifier of the ingest side."""

from __future__ import annotations

import re
from typing import Any

from elastic_transport import SerializationError, TlsError
from elasticsearch import ApiError, TransportError

# 429 (too many requests) and 5xx may pass; any other 4xx is the request's own fault.
TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})


class TransientIndexError(Exception):
    """Elasticsearch kept failing transiently; the caller should retry later."""


# Indexing pressure names the operation's own bytes and the node's limit: an operation over
# the limit alone (Elasticsearch 9 counts a document about four times its source at the
# primary) is refused however long it waits.
_PRESSURE = re.compile(r"(?:primary|coordinating)_operation_bytes=(\d+), max_\w+_bytes=(\d+)")


def is_transient_status(status: int) -> bool:
    return status in TRANSIENT_STATUS


def never_fits(error: dict[str, Any] | None) -> bool:
    """A bulk item's 429 for an operation larger, on its own, than the node's indexing limit."""
    found = _PRESSURE.search(str((error or {}).get("reason", "")))
    return found is not None and int(found[1]) > int(found[2])


def is_transient(exc: BaseException) -> bool:
    """True for outages (refused, reset, timed out, 429, 5xx); False for the caller's faults.

    The client raises SerializationError (a TransportError) before anything is sent, for a
    body it cannot encode: retrying the same body fails the same way, forever. A TLS error
    is configuration (wrong CA, wrong scheme), not an outage.
    """
    if isinstance(exc, TransientIndexError):
        return True
    if isinstance(exc, ApiError):
        return is_transient_status(exc.meta.status)
    if isinstance(exc, SerializationError | TlsError):
        return False
    return isinstance(exc, TransportError)
