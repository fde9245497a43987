"""A loopback HTTP/1.1 proxy in front of Elasticsearch that injects faults on demand."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from dataclasses import dataclass, field

PASS, DOWN, TOO_MANY, SLOW, CUT, REJECT_ITEM = "pass", "down", "429", "slow", "cut", "reject-item"
_BULK_429 = json.dumps(
    {
        "error": {"type": "es_rejected_execution_exception", "reason": "injected by the proxy"},
        "status": 429,
    }
).encode()
# A field the strict mapping refuses: Elasticsearch answers 400 for that item alone.
REJECTED_FIELD = "fault_injected_field"


@dataclass
class Mode:
    name: str = PASS
    remaining: int | None = None
    """How many more requests the fault applies to (None: until switched off or `until`)."""
    until: float | None = None
    """time.monotonic() after which the fault stops (None: no end)."""
    delay: float = 0.0
    before: bool = False
    """slow: hold the request before forwarding it (else: hold the answer)."""
    marker: str = ""
    """slow, reject-item: only `_bulk` requests whose body holds this string."""
    bulk_only: bool = True


@dataclass
class Stats:
    requests: int = 0
    bulk_requests: int = 0
    refused: int = 0
    too_many: int = 0
    delayed: int = 0
    cut: int = 0
    rejected_items: int = 0
    faults: list[str] = field(default_factory=list)


class _Closed(Exception):
    """The peer closed the connection between requests."""


async def _read_head(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        raise _Closed from exc


def _headers(head: bytes) -> tuple[str, dict[str, str]]:
    first, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return first, headers


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    """The raw body bytes (chunked framing kept as is)."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raw = b""
        while True:
            size_line = await reader.readuntil(b"\r\n")
            raw += size_line
            size = int(size_line.split(b";")[0].strip(), 16)
            raw += await reader.readexactly(size + 2)
            if size == 0:
                return raw
    return await reader.readexactly(int(headers.get("content-length", "0") or 0))


def _with_length(head: bytes, length: int) -> bytes:
    first, *lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    kept = [line for line in lines if not line.lower().startswith("content-length:")]
    return "\r\n".join([first, *kept, f"Content-Length: {length}", "", ""]).encode("latin-1")


def reject_item(body: bytes, marker: str) -> tuple[bytes, int]:
    """Add a field the mapping refuses to each indexed source holding `marker`."""
    lines = body.split(b"\n")
    changed = 0
    for i in range(1, len(lines)):
        if marker.encode() not in lines[i] or not lines[i - 1].startswith(b'{"index"'):
            continue
        source = json.loads(lines[i])
        source[REJECTED_FIELD] = "refused by the strict mapping"
        lines[i] = json.dumps(source).encode()
        changed += 1
    return b"\n".join(lines), changed


class FaultProxy:
    """Forwards 127.0.0.1:<port> to Elasticsearch, in a thread, with a switchable fault."""

    def __init__(self, upstream_host: str = "127.0.0.1", upstream_port: int = 9200) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.stats = Stats()
        self._mode = Mode()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        future.result(timeout=10)
        return self

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def set(self, name: str = PASS, **options: object) -> None:
        """Switch the fault (see Mode); PASS forwards everything untouched."""
        with self._lock:
            self._mode = Mode(name, **options)  # type: ignore[arg-type]

    @property
    def mode(self) -> str:
        with self._lock:
            return self._current().name

    def _current(self) -> Mode:
        mode = self._mode
        if (mode.until is not None and time.monotonic() >= mode.until) or mode.remaining == 0:
            self._mode = mode = Mode()
        return mode

    def _fault_for(self, target: str, body: bytes) -> Mode:
        """The fault that applies to this request (counted), or PASS."""
        bulk = "/_bulk" in target.split("?", 1)[0]
        with self._lock:
            self.stats.requests += 1
            self.stats.bulk_requests += bulk
            mode = self._current()
            if mode.name == PASS:
                return mode
            if mode.name != DOWN and mode.bulk_only and not bulk:
                return Mode()
            if mode.marker and mode.marker.encode() not in body:
                return Mode()
            if mode.remaining is not None:
                mode.remaining -= 1
            self.stats.faults.append(mode.name)
            return mode

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                head = await _read_head(reader)
                request_line, headers = _headers(head)
                method, target, _ = request_line.split(" ", 2)
                body = await _read_body(reader, headers)
                fault = self._fault_for(target, body)
                if fault.name == DOWN:
                    with self._lock:
                        self.stats.refused += 1
                    return
                if fault.name == TOO_MANY:
                    with self._lock:
                        self.stats.too_many += 1
                    writer.write(
                        b"HTTP/1.1 429 Too Many Requests\r\n"
                        b"Content-Type: application/json\r\n"
                        b"X-Elastic-Product: Elasticsearch\r\n"
                        + f"Content-Length: {len(_BULK_429)}\r\n\r\n".encode()
                        + _BULK_429
                    )
                    await writer.drain()
                    continue
                if fault.name == REJECT_ITEM:
                    body, changed = reject_item(body, fault.marker)
                    head = _with_length(head, len(body))
                    with self._lock:
                        self.stats.rejected_items += changed
                if fault.name == SLOW:
                    with self._lock:
                        self.stats.delayed += 1
                    if fault.before:
                        await asyncio.sleep(fault.delay)
                if up is None:
                    up = await asyncio.open_connection(*self.upstream)
                up[1].write(head + body)
                await up[1].drain()
                answer = await _read_head(up[0])
                status_line, answer_headers = _headers(answer)
                status = int(status_line.split(" ", 2)[1])
                if method != "HEAD" and status not in (204, 304):
                    answer += await _read_body(up[0], answer_headers)
                if fault.name == CUT:
                    with self._lock:
                        self.stats.cut += 1
                    return  # Elasticsearch did the work; the client never hears of it
                if fault.name == SLOW and not fault.before:
                    await asyncio.sleep(fault.delay)
                writer.write(answer)
                await writer.drain()
                if "close" in (
                    headers.get("connection", "").lower(),
                    answer_headers.get("connection", "").lower(),
                ):
                    return
        except (_Closed, ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            writer.close()
            if up is not None:
                up[1].close()
