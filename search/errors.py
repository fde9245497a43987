"""Which Elasticsearch failures are worth another try: the one classifier of the ingest side."""

from __future__ import annotations

from elastic_transport import SerializationError, TlsError
from elasticsearch import ApiError, TransportError

# 429 (too many requests) and 5xx may pass; any other 4xx is the request's own fault.
TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})


class TransientIndexError(Exception):
    """Elasticsearch kept failing transiently; the caller should retry later."""


def is_transient_status(status: int) -> bool:
    return status in TRANSIENT_STATUS


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
