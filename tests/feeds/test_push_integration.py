"""`POST /api/documents` on the real Redis, Elasticsearch and Celery worker."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import urllib3
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient
from pydantic import SecretStr

from tests.support.procs import WorkerProcess
from tests.support.waiting import wait_for
from worker import compose
from worker.enqueue import submit_many
from worker.push import PUSH_FOLDER, PushConfig, install, key_matches
from worker.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.integration

KEYS = "old-key-still-valid,new-key-2026"
AUTH = {"Authorization": "Bearer new-key-2026"}


def _client(settings: Settings, **changes: Any) -> TestClient:
    keyed = settings.model_copy(update={"api_key": SecretStr(KEYS), **changes})
    return TestClient(compose.api_app(keyed))


def _item(item: Callable[..., str], n: int, **extra: str) -> dict[str, Any]:
    return dict(json.loads(item(n, **extra)))


def _settled(client: TestClient, url: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        answer = client.get(url, headers=AUTH).json()
        return answer if answer["status"] != "queued" else None

    return wait_for(done, 90, what=f"{url} to settle")  # type: ignore[no-any-return]


def test_keys_are_compared_whole_and_any_configured_key_is_accepted() -> None:
    keys = ("alpha-key", "beta-key")
    assert key_matches("Bearer beta-key", keys)
    assert key_matches("bearer alpha-key", keys)
    assert not key_matches("Bearer alpha", keys)
    assert not key_matches("alpha-key", keys)
    assert not key_matches("Basic alpha-key", keys)
    assert not key_matches(None, keys)
    assert not key_matches("Bearer ", ("",))


def test_writes_need_a_key_and_are_refused_when_none_is_set(
    settings: Settings, es: Elasticsearch, clean_state: None, item: Callable[..., str]
) -> None:
    body = _item(item, 1)
    off = TestClient(compose.api_app(settings))
    answer = off.post("/api/documents", json=body)
    assert answer.status_code == 403 and "DROPSIFT_API_KEY" in answer.json()["detail"]
    client = _client(settings)
    assert client.post("/api/documents", json=body).status_code == 401
    wrong = client.post("/api/documents", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    old = {"Authorization": "Bearer old-key-still-valid"}
    assert client.post("/api/documents", json=body, headers=old).status_code == 202
    # Nothing was written for the refused requests.
    assert len(list((settings.inbox / PUSH_FOLDER).rglob("*.jsonl"))) == 1


def test_too_large_and_not_json_are_refused_before_anything_is_written(
    settings: Settings, es: Elasticsearch, clean_state: None
) -> None:
    client = _client(settings, max_file_bytes=2000)
    big = client.post("/api/documents", json={"body": "x" * 3000}, headers=AUTH)
    assert big.status_code == 413
    text = client.post(
        "/api/documents", content=b"title: hello", headers={**AUTH, "Content-Type": "text/plain"}
    )
    assert text.status_code == 415
    broken = client.post(
        "/api/documents", content=b'{"body": ', headers={**AUTH, "Content-Type": "application/json"}
    )
    assert broken.status_code == 415
    assert not (settings.inbox / PUSH_FOLDER).exists()


def test_pushed_items_go_through_the_pipeline_and_report_their_outcome(
    settings: Settings,
    es: Elasticsearch,
    running_worker: WorkerProcess,
    item: Callable[..., str],
) -> None:
    client = _client(settings)
    good, copy = _item(item, 1, url="https://news.example.com/a"), _item(item, 1)
    items = [good, "not an object", {"title": "no text"}, {"body": "x", "title": 5}, copy]
    items.append({"html": "<html><body><div> </div></body></html>", "title": "empty page"})
    answer = client.post("/api/documents", json=items, headers=AUTH)
    assert answer.status_code == 202, answer.text
    result = answer.json()
    assert (result["accepted"], result["refused"]) == (3, 3)
    refused = {a["index"]: a["reason"] for a in result["items"] if a["status"] == "refused"}
    assert refused == {1: "bad_item", 2: "no_body", 3: "bad_field_type"}
    # Durable before the answer: the file is in place under its final name.
    (spooled,) = (settings.inbox / PUSH_FOLDER).rglob("*.jsonl")
    assert len(spooled.read_text().splitlines()) == 3

    urls = [a["status_url"] for a in result["items"] if a["status"] == "queued"]
    first, second, third = (_settled(client, url) for url in urls)
    assert first["status"] == "indexed"
    document = client.get(first["document_url"], headers=AUTH).json()
    assert document["site"] == "news.example.com"
    assert second["status"] == "duplicate" and second["document_id"] == first["document_id"]
    assert (third["status"], third.get("reason")) == ("quarantined", "no_content"), third
    summary = client.get(result["status_url"], headers=AUTH).json()
    assert summary["counts"] == {"indexed": 1, "duplicate": 1, "quarantined": 1}
    assert client.get("/api/pushes/20260101T000000-000000000000").status_code == 404


def test_a_push_whose_queueing_failed_is_still_indexed_from_its_file(
    settings: Settings,
    es: Elasticsearch,
    running_worker: WorkerProcess,
    item: Callable[..., str],
) -> None:
    """The API dies (or the queue is away) right after its 202: the items are on disk."""

    def queue_away(paths: list[str]) -> None:
        raise ConnectionError("the queue is away")

    keyed = settings.model_copy(update={"api_key": SecretStr(KEYS)})
    app = compose.api_app(keyed)
    app.router.routes = [r for r in app.router.routes if getattr(r, "path", "") != "/api/documents"]
    config = PushConfig(settings.inbox, ("new-key-2026",), False, settings.max_file_bytes, {})
    install(app, config, compose.ledger(settings), queue_away)
    client = TestClient(app)
    answer = client.post("/api/documents", json=_item(item, 2), headers=AUTH)
    assert answer.status_code == 202
    url = answer.json()["items"][0]["status_url"]
    assert client.get(url, headers=AUTH).json()["status"] == "queued"
    # What the watcher's scan does with the file it finds.
    paths = list((settings.inbox / PUSH_FOLDER).rglob("*.jsonl"))
    submit_many(paths, compose.ledger(settings), compose.publisher(settings).process)
    assert _settled(client, url)["status"] == "indexed"


def test_reads_can_be_keyed_too(settings: Settings, es: Elasticsearch, clean_state: None) -> None:
    client = _client(settings, api_key_reads=True)
    assert client.get("/api/search", params={"q": "x"}).status_code == 401
    assert client.get("/api/search", params={"q": "x"}, headers=AUTH).status_code == 200
    assert client.get("/healthz").status_code == 200
    open_reads = _client(settings)
    assert open_reads.get("/api/search", params={"q": "x"}).status_code == 200


def test_items_accepted_survive_the_api_killed_right_after_its_answer(
    settings: Settings,
    es: Elasticsearch,
    service_env: dict[str, str],
    running_worker: WorkerProcess,
    item: Callable[..., str],
    tmp_path: Path,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "api.log"
    env = {**service_env, "DROPSIFT_API_KEY": KEYS}
    with open(log, "wb") as out:
        api = subprocess.Popen(
            [sys.executable, "-m", "worker.cli", "api", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
            start_new_session=True,
        )
    try:
        http = urllib3.PoolManager()
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            assert api.poll() is None, log.read_text()[-2000:]
            try:
                return http.request("GET", f"{url}/healthz", retries=False).status == 200
            except urllib3.exceptions.HTTPError:
                return False

        wait_for(up, 60, what="the API to answer")
        body = json.dumps([_item(item, 3), _item(item, 4)]).encode()
        answer = http.request("POST", f"{url}/api/documents", body=body, headers=AUTH)
        os.killpg(api.pid, signal.SIGKILL)  # right after the 202, before anything else
        api.wait(timeout=30)
        assert answer.status == 202
        push_id = json.loads(answer.data)["push_id"]
    finally:
        if api.poll() is None:
            os.killpg(api.pid, signal.SIGKILL)
            api.wait(timeout=30)
    # A new API (and the watcher's scan, which queues the file again if need be).
    paths = list((settings.inbox / PUSH_FOLDER).rglob("*.jsonl"))
    assert [p.name for p in paths] == [f"{push_id}.jsonl"]
    submit_many(paths, compose.ledger(settings), compose.publisher(settings).process)
    client = _client(settings)
    for n in (1, 2):
        assert _settled(client, f"/api/pushes/{push_id}/items/{n}")["status"] == "indexed"
