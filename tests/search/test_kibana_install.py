"""`dropsift kibana install` against a stub Kibana: a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner, Result

from search.kibana.install import KibanaError, objects_for, parse_response
from worker.cli import cli
from worker.settings import Settings, get_settings

IMPORT_PATH = "/api/saved_objects/_import"


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def form_file(self) -> tuple[str | None, str | None, str]:
        """The multipart field's name, file name and content."""
        head = f"Content-Type: {self.headers['content-type']}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + self.body)
        assert message.is_multipart()
        parts = list(message.iter_parts())
        assert len(parts) == 1
        part = parts[0]
        content = part.get_payload(decode=True)
        assert isinstance(content, bytes)
        return (
            part.get_param("name", header="content-disposition"),
            part.get_filename(),
            (content.decode()),
        )


@dataclass
class StubKibana:
    """Answers every request with the next scripted (status, body); records what it got."""

    url: str = ""
    answers: list[tuple[int, Any]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)


@pytest.fixture
def kibana() -> Iterator[StubKibana]:
    stub = StubKibana()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            parts = urlsplit(self.path)
            stub.received.append(
                Received(
                    "POST",
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
            )
            status, body = stub.answers.pop(0) if len(stub.answers) > 1 else stub.answers[0]
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield stub
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in (
        "INDEX_PREFIX",
        "KIBANA_URL",
        "KIBANA_SPACE",
        "KIBANA_USER",
        "KIBANA_PASSWORD",
        "KIBANA_API_KEY",
        "KIBANA_CA_FILE",
    ):
        monkeypatch.delenv(f"DROPSIFT_{name}", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    get_settings.cache_clear()
    return CliRunner().invoke(cli, ["kibana", "install", *args], env=env)


def _ok(count: int = 17) -> dict[str, Any]:
    return {"success": True, "successCount": count, "successResults": []}


def test_success_posts_the_objects_as_kibana_wants_them(kibana: StubKibana) -> None:
    kibana.answers = [(200, _ok())]
    result = run("--url", kibana.url)
    assert result.exit_code == 0, result.output
    assert "imported 17 of 17 objects" in result.output
    assert f"{kibana.url}/app/dashboards#/view/dropsift-overview" in result.output
    [request] = kibana.received
    assert request.path == IMPORT_PATH
    assert request.query == {"overwrite": ["true"]}
    assert request.headers["kbn-xsrf"] == "true"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert "authorization" not in request.headers
    name, filename, content = request.form_file()
    assert name == "file"
    assert filename and filename.endswith(".ndjson")
    assert content == objects_for("dropsift")
    assert json.loads(content.splitlines()[0])["id"] == "dropsift-docs"


def test_space_path_and_basic_auth(kibana: StubKibana) -> None:
    kibana.answers = [(200, _ok())]
    result = run("--url", kibana.url + "/", "--space", "news-desk", "--user", "elastic",
                 "--password", "s3cret")  # fmt: skip
    assert result.exit_code == 0, result.output
    [request] = kibana.received
    assert request.path == f"/s/news-desk{IMPORT_PATH}"
    expected = base64.b64encode(b"elastic:s3cret").decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert f"{kibana.url}/s/news-desk/app/dashboards#/view/dropsift-overview" in result.output


def test_api_key_from_the_settings_and_the_prefix_names_the_data_views(
    kibana: StubKibana,
) -> None:
    kibana.answers = [(200, _ok())]
    env = {
        "DROPSIFT_KIBANA_URL": kibana.url,
        "DROPSIFT_KIBANA_API_KEY": "aWQ6a2V5",
        "DROPSIFT_KIBANA_SPACE": "ops",
        "DROPSIFT_INDEX_PREFIX": "acme",
    }
    result = run(env=env)
    assert result.exit_code == 0, result.output
    [request] = kibana.received
    assert request.path == f"/s/ops{IMPORT_PATH}"
    assert request.headers["authorization"] == "ApiKey aWQ6a2V5"
    titles = {
        o["attributes"]["title"]
        for o in map(json.loads, request.form_file()[2].splitlines())
        if o["type"] == "index-pattern"
    }
    assert titles == {"acme-docs", "acme-events-*"}


def test_success_false_prints_each_error_with_its_object_and_fails(kibana: StubKibana) -> None:
    kibana.answers = [
        (
            200,
            {
                "success": False,
                "successCount": 14,
                "errors": [
                    {
                        "id": "dropsift-vis-sites",
                        "type": "visualization",
                        "title": "dropsift: documents by site",
                        "meta": {"title": "dropsift: documents by site", "icon": "visualizeApp"},
                        "error": {
                            "type": "missing_references",
                            "references": [{"type": "index-pattern", "id": "dropsift-docs"}],
                        },
                    },
                    {
                        "id": "dropsift-overview",
                        "type": "dashboard",
                        "meta": {"title": "dropsift"},
                        "error": {"type": "conflict"},
                    },
                    {
                        "id": "dropsift-docs",
                        "type": "index-pattern",
                        "meta": {"title": "dropsift-docs"},
                        "error": {"type": "unsupported_type"},
                    },
                ],
            },
        )
    ]
    result = run("--url", kibana.url)
    assert result.exit_code == 1, result.output
    out = result.output
    assert (
        'visualization dropsift-vis-sites "dropsift: documents by site": missing_references: '
        "index-pattern dropsift-docs"
    ) in out
    assert 'dashboard dropsift-overview "dropsift": conflict' in out
    assert 'index-pattern dropsift-docs "dropsift-docs": unsupported_type' in out
    assert "imported 14 of 17 objects" in out


def test_the_dashboard_link_follows_an_id_kibana_changed(kibana: StubKibana) -> None:
    body = _ok()
    body["successResults"] = [
        {"type": "dashboard", "id": "dropsift-overview", "destinationId": "0f1e-new"},
        {"type": "search", "id": "dropsift-latest-documents"},
    ]
    kibana.answers = [(200, body)]
    result = run("--url", kibana.url, "--space", "ops")
    assert result.exit_code == 0, result.output
    assert f"{kibana.url}/s/ops/app/dashboards#/view/0f1e-new" in result.output


def test_http_200_without_success_is_not_believed(kibana: StubKibana) -> None:
    kibana.answers = [(200, {"statusCode": 200, "message": "ok"})]
    result = run("--url", kibana.url)
    assert result.exit_code == 1
    assert "not an import answer" in result.output


def test_success_true_with_errors_is_not_believed() -> None:
    result = parse_response(
        {"success": True, "successCount": 1, "errors": [{"id": "x", "type": "search",
                                                          "error": {"type": "unknown"}}]}
    )  # fmt: skip
    assert not result.success
    assert str(result.errors[0]) == "search x: unknown"
    with pytest.raises(KibanaError):
        parse_response(["success"])


def test_401_fails_with_the_reason(kibana: StubKibana) -> None:
    kibana.answers = [
        (401, {"statusCode": 401, "error": "Unauthorized", "message": "[security_exception]"})
    ]
    result = run("--url", kibana.url, "--api-key", "bad")
    assert result.exit_code == 1
    assert "refused the credentials (HTTP 401): [security_exception]" in result.output


def test_other_http_errors_fail(kibana: StubKibana) -> None:
    kibana.answers = [(415, {"statusCode": 415, "message": "Unsupported Media Type"})]
    result = run("--url", kibana.url)
    assert result.exit_code == 1
    assert "HTTP 415: Unsupported Media Type" in result.output


def test_an_unreachable_kibana_fails() -> None:
    with socket.socket() as s:  # a port nothing listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run("--url", f"http://127.0.0.1:{port}")
    assert result.exit_code == 1
    assert f"cannot reach Kibana at http://127.0.0.1:{port}" in result.output


def test_wait_rides_out_a_kibana_that_is_still_starting(kibana: StubKibana) -> None:
    kibana.answers = [(503, {"statusCode": 503, "message": "not ready"}), (200, _ok())]
    assert run("--url", kibana.url).exit_code == 1  # no waiting: the 503 is the answer
    kibana.answers = [(503, {"statusCode": 503, "message": "not ready"}), (200, _ok())]
    result = run("--url", kibana.url, "--wait", "30")
    assert result.exit_code == 0, result.output
    assert len(kibana.received) == 3


def test_dry_run_writes_the_ndjson_and_sends_nothing(kibana: StubKibana) -> None:
    kibana.answers = [(200, _ok())]
    result = run("--url", kibana.url, "--dry-run", env={"DROPSIFT_INDEX_PREFIX": "acme"})
    assert result.exit_code == 0
    assert result.stdout == objects_for("acme")
    assert kibana.received == []


def test_api_key_and_user_together_are_refused(kibana: StubKibana) -> None:
    kibana.answers = [(200, _ok())]
    result = run("--url", kibana.url, "--api-key", "k", "--user", "u", "--password", "p")
    assert result.exit_code == 1
    assert "not both" in result.output
    assert kibana.received == []


def test_a_bad_space_id_is_refused_before_anything_is_sent(kibana: StubKibana) -> None:
    kibana.answers = [(200, _ok())]
    result = run("--url", kibana.url, "--space", "../admin")
    assert result.exit_code == 1
    assert "not a Kibana space id: '../admin'" in result.output
    assert kibana.received == []


def test_settings_refuse_an_api_key_with_a_user() -> None:
    with pytest.raises(ValidationError, match="DROPSIFT_KIBANA_API_KEY or"):
        Settings(kibana_api_key="k", kibana_user="u")
