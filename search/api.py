"""The HTTP search API. The Elasticsearch client and alias are handed in by whoever runs it."""

from __future__ import annotations

import uuid
from typing import Any

from elasticsearch import Elasticsearch, TransportError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

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

    @app.middleware("http")
    async def request_id(request: Request, call_next: Any) -> Any:
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex
        request.state.request_id = rid
        response = await call_next(request)
        response.headers["x-request-id"] = rid
        return response

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": e["loc"], "msg": e["msg"]} for e in exc.errors()]
        return JSONResponse(status_code=400, content={"detail": errors})

    @app.exception_handler(TransportError)
    async def es_unreachable(request: Request, exc: TransportError) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": "Elasticsearch is not reachable"})

    _document_statuses_as_answered(app)
    return app


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
