"""The HTTP search API. The Elasticsearch client and alias are handed in by whoever runs it."""

from __future__ import annotations

import uuid
from typing import Any

from elasticsearch import Elasticsearch, TransportError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from search.routes import documents, health, search, suggest


def create_app(es: Elasticsearch, alias: str, *, max_per_page: int = 100) -> FastAPI:
    app = FastAPI(
        title="dropsift search",
        description="Full-text and faceted search over the documents dropsift ingested.",
        version="0.2.0",
    )
    app.state.es = es
    app.state.alias = alias
    app.state.max_per_page = max_per_page
    for module in (search, suggest, documents, health):
        app.include_router(module.router)

    app.add_middleware(RequestId)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": e["loc"], "msg": e["msg"]} for e in exc.errors()]
        return JSONResponse(status_code=400, content={"detail": errors})

    @app.exception_handler(TransportError)
    async def es_unreachable(request: Request, exc: TransportError) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": "Elasticsearch is not reachable"})

    _document_statuses_as_answered(app)
    return app


class RequestId:
    """Each request's id (the caller's x-request-id, or a new one), in request.state and echoed.

    Plain ASGI: Starlette's BaseHTTPMiddleware costs a task and a stream per request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"")
        rid = given.decode("latin-1") or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", rid.encode("latin-1")),
                ]
            await send(message)

        await self.app(scope, receive, send_with_id)


def _document_statuses_as_answered(app: FastAPI) -> None:
    """Drop FastAPI's generated 422: invalid parameters are answered with a 400 instead."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for path in schema["paths"].values():
                for operation in path.values():
                    operation.get("responses", {}).pop("422", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
