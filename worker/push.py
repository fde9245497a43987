"""Items pushed over HTTP (`POST /api/documents`), and where to ask what became of them.

An accepted push is written as one JSON Lines file into the inbox's `pushed/` folder (to a
dotfile, fsynced, renamed, the folder fsynced), then queued like any file: the same queue,
ledger, dedupe and quarantine. The 202 answer is sent only after the rename is on disk, so a
crash of the API right after it loses nothing: the watcher's scan finds the file. Workers read
pushed items as they read every file, from the inbox they already share; Redis holds no item
bodies. An item's outcome is its ledger entry (`<file>#L<n>`), read back by its push id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from tasks.document import Document
from tasks.errors import Rejected
from tasks.formats.fields import field_map
from tasks.formats.items import item_document
from tasks.source import ItemRef
from worker.enqueue import Send, submit_many
from worker.pipeline.ledger import Ledger

log = structlog.get_logger(__name__)

PUSH_FOLDER = "pushed"
_PUSH_ID = re.compile(r"^(\d{8})T\d{6}-[0-9a-f]{12}$")
_JSON_TYPES = re.compile(r"^application/(?:[\w.+-]+\+)?json\s*(?:;.*)?$", re.IGNORECASE)


def _digest(key: str) -> bytes:
    # Digests have one length, so comparing them says nothing about a key's length.
    return hashlib.sha256(key.encode()).digest()


def key_matches(authorization: str | None, keys: Sequence[str]) -> bool:
    """Whether `Authorization: Bearer <key>` names one of `keys`, compared in constant time."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    offered = _digest(token.strip())
    found = False
    for key in keys:  # every key is compared, so timing does not tell which one matched
        found |= hmac.compare_digest(offered, _digest(key))
    return found


@dataclass(frozen=True)
class PushConfig:
    inbox: Path
    keys: tuple[str, ...]
    """Accepted API keys; none: pushing is refused."""
    keyed_reads: bool
    """Reads of /api/* need a key too."""
    max_bytes: int
    json_fields: Mapping[str, Sequence[str]]

    @property
    def folder(self) -> Path:
        return self.inbox / PUSH_FOLDER


def _new_push_id() -> str:
    return f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(6)}"


def push_file(folder: Path, push_id: str) -> Path:
    """Where a push's items are: one folder per day, so no folder grows without end."""
    day = push_id[:8]
    return folder / f"{day[:4]}-{day[4:6]}-{day[6:]}" / f"{push_id}.jsonl"


def spool(folder: Path, push_id: str, items: list[Any]) -> Path:
    """Write the items as a JSON Lines file, durably: on disk before anyone is told so."""
    target = push_file(folder, push_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.part")  # a dotfile: the watcher passes it by
    lines = (json.dumps(item, ensure_ascii=False, separators=(",", ":")) for item in items)
    data = "".join(f"{line}\n" for line in lines).encode()
    with open(temp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.rename(temp, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself is durable only once its folder is
    finally:
        os.close(directory)
    return target


def _text_only(source: str, html: str) -> Document:
    # Checking an item at the door: an `html` field is extracted by the worker, not here.
    return Document(source=source, text=html, format="json")


def check_item(item: Any, fields: Mapping[str, Sequence[str]]) -> Rejected | None:
    """Why an item cannot be accepted (not an object, no text, a field of the wrong type)."""
    try:
        item_document("pushed", item, fields, _text_only)
    except Rejected as why:
        return why
    return None


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 past `limit` bytes (also without Content-Length)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise HTTPException(413, f"the body is over the {limit}-byte limit")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise HTTPException(413, f"the body is over the {limit}-byte limit")
    return bytes(data)


def _outcome(ledger: Ledger, folder: Path, push_id: str, line: int) -> dict[str, Any]:
    path = push_file(folder, push_id)
    source = str(ItemRef.line(str(path), line))
    answer: dict[str, Any] = {"id": f"{push_id}:{line}", "status": "queued"}
    entry = ledger.get(source)
    whole = ledger.get(str(path)) if entry is None else None
    if entry is None and whole is not None and whole.state == "quarantined" and not whole.feed:
        entry = whole  # refused as a whole (the file could not be read)
    if entry is None:
        return answer
    answer["status"] = str(entry.state)
    if entry.reason:
        answer["reason"], answer["detail"] = entry.reason, entry.last_error
    if entry.doc_id:
        answer["document_id"] = entry.doc_id
        answer["document_url"] = f"/api/documents/{entry.doc_id}"
    if entry.duplicate_of:
        answer["duplicate_of"] = entry.duplicate_of
    return answer


def _lines(ledger: Ledger, folder: Path, push_id: str) -> int:
    if not _PUSH_ID.match(push_id):
        raise HTTPException(404, f"no push {push_id}")
    path = push_file(folder, push_id)
    try:
        with open(path, "rb") as handle:
            return sum(1 for _ in handle)
    except FileNotFoundError:
        raise HTTPException(404, f"no push {push_id}") from None


_ITEM_SCHEMA = {
    "type": "object",
    "description": "The field names of JSON files: body/text/maintext or html, title, url, ...",
    "additionalProperties": True,
}
_PUSH_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {"oneOf": [_ITEM_SCHEMA, {"type": "array", "items": _ITEM_SCHEMA}]}
        }
    },
}
_PUSH_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "Accepted items are on disk and queued; refused ones say why"},
    401: {"description": "No API key, or a wrong one"},
    403: {"description": "No DROPSIFT_API_KEY is set: pushing is off"},
    413: {"description": "The body is over DROPSIFT_MAX_FILE_BYTES"},
    415: {"description": "The body is not JSON"},
    422: {"description": "No item could be accepted (each with its reason)"},
}


def router(config: PushConfig, ledger: Ledger, send: Send) -> APIRouter:
    """The push endpoint and the outcome of pushed items."""
    api = APIRouter()
    fields = field_map(config.json_fields)

    def authorise(request: Request) -> None:
        if not config.keys:
            raise HTTPException(403, "pushing is off: no DROPSIFT_API_KEY is set")
        if not key_matches(request.headers.get("authorization"), config.keys):
            raise HTTPException(
                401, "a valid API key is needed", headers={"WWW-Authenticate": "Bearer"}
            )

    @api.post(
        "/api/documents",
        status_code=202,
        summary="Push one item or an array of items",
        responses=_PUSH_RESPONSES,
        openapi_extra={"requestBody": _PUSH_BODY},
    )
    async def push(request: Request) -> JSONResponse:
        authorise(request)
        content_type = request.headers.get("content-type", "application/json")
        if not _JSON_TYPES.match(content_type):
            raise HTTPException(415, f"the body must be JSON, not {content_type}")
        raw = await _body(request, config.max_bytes)
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise HTTPException(415, f"the body is not JSON: {exc}") from exc
        items = body if isinstance(body, list) else [body]
        answers: list[dict[str, Any]] = []
        accepted: list[Any] = []
        for index, item in enumerate(items):
            why = check_item(item, fields)
            if why is None:
                accepted.append(item)
                answers.append({"index": index, "line": len(accepted)})
            else:
                refused = {"status": "refused", "reason": why.reason, "detail": why.detail}
                answers.append({"index": index, **refused})
        if not accepted:
            log.info("push_refused", items=len(items))
            return JSONResponse(status_code=422, content={"accepted": 0, "items": answers})
        push_id = _new_push_id()
        path = spool(config.folder, push_id, accepted)
        for answer in answers:
            if "line" in answer:
                line = answer.pop("line")
                answer.update(
                    id=f"{push_id}:{line}",
                    status="queued",
                    status_url=f"/api/pushes/{push_id}/items/{line}",
                )
        _queue(path, config, ledger, send)
        log.info("push_accepted", push_id=push_id, accepted=len(accepted), items=len(items))
        return JSONResponse(
            status_code=202,
            content={
                "push_id": push_id,
                "accepted": len(accepted),
                "refused": len(items) - len(accepted),
                "status_url": f"/api/pushes/{push_id}",
                "items": answers,
            },
        )

    @api.get(
        "/api/pushes/{push_id}",
        summary="What became of each item of a push",
        responses={404: {"description": "No such push"}},
    )
    def push_status(push_id: str) -> dict[str, Any]:
        lines = _lines(ledger, config.folder, push_id)
        outcomes = [_outcome(ledger, config.folder, push_id, n) for n in range(1, lines + 1)]
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome["status"]] = counts.get(outcome["status"], 0) + 1
        return {"push_id": push_id, "counts": counts, "items": outcomes}

    @api.get(
        "/api/pushes/{push_id}/items/{line}",
        summary="What became of one pushed item",
        responses={404: {"description": "No such push or item"}},
    )
    def item_status(push_id: str, line: int) -> dict[str, Any]:
        if not 1 <= line <= _lines(ledger, config.folder, push_id):
            raise HTTPException(404, f"push {push_id} has no item {line}")
        return _outcome(ledger, config.folder, push_id, line)

    return api


def _queue(path: Path, config: PushConfig, ledger: Ledger, send: Send) -> None:
    """Queue the push now; if the queue is away, the watcher's scan queues it later."""
    try:
        _, failed = submit_many([path], ledger, send, root=config.inbox)
    except Exception as exc:  # the file is on disk: it is not lost, only later
        failed = {path: exc}
    for error in failed.values():
        log.warning("push_queue_later", path=str(path), error=repr(error)[:300])


def install(app: FastAPI, config: PushConfig, ledger: Ledger, send: Send) -> None:
    """Add the push routes to the API, and a key check on reads when they are keyed."""
    app.include_router(router(config, ledger, send))
    if not config.keyed_reads:
        return

    @app.middleware("http")
    async def keyed_reads(request: Request, call_next: Callable[[Request], Any]) -> Any:
        if (
            request.method in ("GET", "HEAD")
            and request.url.path.startswith("/api/")
            and not key_matches(request.headers.get("authorization"), config.keys)
        ):
            return JSONResponse(
                status_code=401,
                content={"detail": "a valid API key is needed (DROPSIFT_API_KEY_READS)"},
                headers={"WWW-Authenticate": "Bearer"},
            )
        return await call_next(request)
