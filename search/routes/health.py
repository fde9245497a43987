"""GET /healthz: whether Elasticsearch answers and the index exists."""

from __future__ import annotations

from elasticsearch import TransportError
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from search.deps import AliasDep, EsDep, problem

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    summary="Whether Elasticsearch answers and the index exists",
    responses={503: problem("Elasticsearch is unreachable, red, or the index is missing")},
)
def healthz(es: EsDep, alias: AliasDep) -> JSONResponse:
    try:
        health = es.cluster.health()["status"]
        exists = bool(es.indices.exists_alias(name=alias))
    except TransportError:
        return JSONResponse(status_code=503, content={"status": "elasticsearch unreachable"})
    ok = health in ("green", "yellow") and exists
    return JSONResponse(
        status_code=200 if ok else 503,
        content={"status": "ok" if ok else "degraded", "elasticsearch": health, "index": exists},
    )
