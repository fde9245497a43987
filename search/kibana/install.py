"""Import the shipped saved objects through Kibana's import API (`dropsift kibana install`)."""

from __future__ import annotations

import re
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from search.kibana.objects import for_prefix, load, to_ndjson

_SPACE = re.compile(r"^[a-z0-9_-]+$")
# Answers of a Kibana that is starting or restarting: worth waiting for.
_NOT_READY = {502, 503, 504}


class KibanaError(Exception):
    """Kibana could not be asked, or refused the request as a whole."""


@dataclass(frozen=True)
class ObjectError:
    """One object Kibana did not import, and why."""

    type: str
    id: str
    title: str
    error: str
    detail: str = ""

    def __str__(self) -> str:
        title = f' "{self.title}"' if self.title else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.type} {self.id}{title}: {self.error}{detail}"


@dataclass
class ImportResult:
    success: bool
    success_count: int
    errors: list[ObjectError] = field(default_factory=list)
    # Object id -> the id Kibana gave it, where it chose another (an id taken in another space).
    renamed: dict[str, str] = field(default_factory=dict)


def import_url(kibana_url: str, space: str | None = None) -> str:
    """The import endpoint, in the space's path when a space is given."""
    base = kibana_url.rstrip("/")
    if space and space != "default":
        if not _SPACE.match(space):
            raise KibanaError(f"not a Kibana space id: {space!r} (a-z, 0-9, _ and - only)")
        base = f"{base}/s/{space}"
    return f"{base}/api/saved_objects/_import"


def _object_error(raw: dict[str, Any]) -> ObjectError:
    error = raw.get("error") or {}
    kind = str(error.get("type", "unknown"))
    if kind == "missing_references":
        missing = error.get("references") or []
        detail = ", ".join(f"{r.get('type')} {r.get('id')}" for r in missing)
    elif kind == "conflict" and error.get("destinationId"):
        detail = f"exists as {error['destinationId']}"
    else:
        detail = str(error.get("message") or "")
    title = raw.get("title") or (raw.get("meta") or {}).get("title") or ""
    return ObjectError(str(raw.get("type", "?")), str(raw.get("id", "?")), str(title), kind, detail)


def parse_response(body: Any) -> ImportResult:
    """Read Kibana's answer: only `success: true` with no errors means everything imported."""
    if not isinstance(body, dict) or "success" not in body:
        raise KibanaError(f"not an import answer: {str(body)[:300]}")
    errors = [_object_error(e) for e in body.get("errors") or [] if isinstance(e, dict)]
    renamed = {
        str(r["id"]): str(r["destinationId"])
        for r in body.get("successResults") or []
        if isinstance(r, dict) and r.get("destinationId") and r.get("id")
    }
    return ImportResult(
        success=body["success"] is True and not errors,
        success_count=int(body.get("successCount") or 0),
        errors=errors,
        renamed=renamed,
    )


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)[:300]
    return str(body)[:300]


def import_objects(
    ndjson: str,
    *,
    kibana_url: str,
    space: str | None = None,
    user: str | None = None,
    password: str | None = None,
    api_key: str | None = None,
    ca_file: Path | None = None,
    wait: float = 0.0,
    timeout: float = 30.0,
) -> ImportResult:
    """POST the objects with overwrite; KibanaError when Kibana is unreachable or says no."""
    if api_key and (user or password):
        raise KibanaError("give an API key or a user and password, not both")
    url = import_url(kibana_url, space)
    headers = {"kbn-xsrf": "true"}
    if api_key:
        headers["Authorization"] = f"ApiKey {api_key}"
    auth = httpx.BasicAuth(user, password or "") if user else None
    verify: ssl.SSLContext | bool = (
        ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
    )
    deadline = time.monotonic() + wait
    with httpx.Client(headers=headers, auth=auth, verify=verify, timeout=timeout) as client:
        while True:
            try:
                response = client.post(
                    url,
                    params={"overwrite": "true"},
                    files={"file": ("dropsift.ndjson", ndjson.encode(), "application/ndjson")},
                )
            except httpx.TransportError as exc:
                if time.monotonic() < deadline:
                    time.sleep(1)
                    continue
                raise KibanaError(f"cannot reach Kibana at {kibana_url}: {exc}") from exc
            if response.status_code in _NOT_READY and time.monotonic() < deadline:
                time.sleep(1)
                continue
            break
    if response.status_code in (401, 403):
        raise KibanaError(
            f"Kibana refused the credentials (HTTP {response.status_code}): {_message(response)}"
        )
    if response.status_code != 200:
        raise KibanaError(f"Kibana answered HTTP {response.status_code}: {_message(response)}")
    try:
        body = response.json()
    except ValueError as exc:
        raise KibanaError(f"Kibana's answer is not JSON: {response.text[:300]}") from exc
    return parse_response(body)


def objects_for(prefix: str) -> str:
    """The shipped NDJSON with the data views named for this index prefix."""
    return to_ndjson(for_prefix(load(), prefix))
