"""The shipped Scrapy parts on their own: the pipeline against a scripted local server, and
the atomic feed storage on a real folder."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from worker.scrapy import AtomicFileFeedStorage, DropsiftPipeline


class Scripted(ThreadingHTTPServer):
    """Answers POSTs with the next status of its script (then 202), recording each body."""

    def __init__(self, script: list[int]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = list(script)
        self.bodies: list[list[dict[str, Any]]] = []


class _Handler(BaseHTTPRequestHandler):
    server: Scripted

    def do_POST(self) -> None:
        items = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.bodies.append(items)
        status = self.server.script.pop(0) if self.server.script else 202
        answer: dict[str, Any] = {"push_id": f"p{len(self.server.bodies)}", "items": []}
        if status == 202:
            answer["items"] = [
                {"index": i, "status": "refused", "reason": "no_body", "detail": "no text"}
                if "body" not in item
                else {"index": i, "status": "queued"}
                for i, item in enumerate(items)
            ]
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[Scripted] = []

    def start(script: list[int]) -> tuple[Scripted, str]:
        server = Scripted(script)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server, f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()


def _pipeline(url: str, **options: Any) -> DropsiftPipeline:
    stats = MemoryStatsCollector(get_crawler())
    return DropsiftPipeline(url, "k", backoff=0.01, stats=stats, **options)


def _batch(*items: dict[str, Any]) -> list[bytes]:
    return [json.dumps(item).encode() for item in items]


def test_server_errors_are_retried_and_refusals_logged_with_their_url(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server, url = serve([503, 502])
    pipeline = _pipeline(url)
    with caplog.at_level(logging.INFO, logger="worker.scrapy"):
        pipeline.send(_batch({"url": "https://a/1", "body": "x"}, {"url": "https://a/2"}))
    assert len(server.bodies) == 3  # two server errors, then accepted
    assert pipeline.stats.get_value("dropsift/accepted") == 1
    assert pipeline.stats.get_value("dropsift/refused") == 1
    assert "dropsift refused an item (no_body: no text): https://a/2" in caplog.text


def test_a_batch_too_large_is_split_and_an_unreachable_server_is_logged_as_lost(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server, url = serve([413])
    pipeline = _pipeline(url)
    pipeline.send(_batch(*({"url": f"https://a/{i}", "body": "x"} for i in range(4))))
    assert [len(body) for body in server.bodies] == [4, 2, 2]
    assert pipeline.stats.get_value("dropsift/accepted") == 4
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    lost = _pipeline(f"http://127.0.0.1:{closed}", retries=2)
    with caplog.at_level(logging.ERROR, logger="worker.scrapy"):
        lost.send(_batch({"url": "https://b/1", "body": "x"}))
    assert lost.stats.get_value("dropsift/failed") == 1
    assert "1 items not delivered to dropsift" in caplog.text and "https://b/1" in caplog.text


def test_a_refused_key_loses_the_batch_loudly(serve: Any, caplog: pytest.LogCaptureFixture) -> None:
    server, url = serve([401])
    pipeline = _pipeline(url)
    with caplog.at_level(logging.ERROR, logger="worker.scrapy"):
        pipeline.send(_batch({"url": "https://c/1", "body": "x"}))
    assert len(server.bodies) == 1  # a 401 is not retried
    assert "dropsift answered 401" in caplog.text


def test_the_atomic_storage_shows_the_file_only_when_whole(tmp_path: Path) -> None:
    target = tmp_path / "inbox" / "site" / "items.jsonl"
    storage = AtomicFileFeedStorage(str(target), feed_options={"overwrite": True})
    handle = storage.open(None)  # type: ignore[arg-type]
    handle.write(b'{"a": 1}\n')
    assert not target.exists()
    (temp,) = target.parent.iterdir()
    assert temp.name.startswith(".") and temp.name.endswith(".part")
    storage.store(handle)
    assert target.read_bytes() == b'{"a": 1}\n'
    assert [p.name for p in target.parent.iterdir()] == ["items.jsonl"]
    # Scrapy's default for files is to append: the renamed file holds both.
    again = AtomicFileFeedStorage(f"file://{target}")
    handle = again.open(None)  # type: ignore[arg-type]
    handle.write(b'{"b": 2}\n')
    assert target.read_bytes() == b'{"a": 1}\n'
    again.store(handle)
    assert target.read_bytes() == b'{"a": 1}\n{"b": 2}\n'
