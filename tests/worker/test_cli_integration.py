"""The commands a person runs, as subprocesses against the real services."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import pytest

from tests.support.index import SEEDS
from tests.support.procs import WorkerProcess
from worker import compose
from worker.celery_app import create_app
from worker.cli import node_name
from worker.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.integration


def dropsift(
    *args: str, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "worker.cli", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_main_job_ingests_the_seeds_and_says_where_to_search(
    service_env: dict[str, str], clean_state: None
) -> None:
    env = {**service_env, "DROPSIFT_API_PORT": str(free_port()), "COLUMNS": "200"}
    result = dropsift("up", "--once", env=env)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "indexed: 2" in result.stdout
    assert "2 documents searchable" in result.stdout
    assert f":{env['DROPSIFT_API_PORT']}/api/search?q=Istanbul" in result.stdout

    found = dropsift("search", "Kharkiv", env=env)
    assert found.returncode == 0, found.stderr[-2000:]
    assert found.stdout.startswith("1 hits")
    assert "Ukraine, Russia resume peace talks" in found.stdout

    status = dropsift("status", env=env)
    assert status.stdout.strip().startswith("indexed: 2")


def test_ingest_reports_every_file_and_why_one_was_quarantined(
    running_worker: WorkerProcess, service_env: dict[str, str], tmp_path
) -> None:
    (tmp_path / "story.txt").write_bytes((SEEDS / "003_0fcbdef7ffe9cfd8.txt").read_bytes())
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "copy.txt").write_bytes(
        (SEEDS / "003_0fcbdef7ffe9cfd8.txt").read_bytes()
    )
    (tmp_path / "program.txt").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(64))
    (tmp_path / "draft.txt.part").write_text("still being written")

    result = dropsift("ingest", str(tmp_path), env={**service_env, "COLUMNS": "250"})

    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "duplicate: 1, indexed: 1, quarantined: 1" in result.stdout
    assert "binary: content is an ELF executable" in result.stdout
    assert "draft.txt.part" not in result.stdout


def test_interrupting_the_main_job_stops_its_worker_and_api(
    service_env: dict[str, str], settings: Settings, clean_state: None
) -> None:
    prefix = f"{settings.index_prefix}-up"
    port = free_port()
    env = {**service_env, "DROPSIFT_INDEX_PREFIX": prefix, "DROPSIFT_API_PORT": str(port)}
    own = Settings(redis_url=settings.redis_url, es_url=settings.es_url, index_prefix=prefix)
    app = create_app(own)
    # Started the way a script starts it in the background: with Ctrl-C ignored.
    proc = subprocess.Popen(
        [sys.executable, "-m", "worker.cli", "up"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("Running;"):
                break
        # A worker of each phase.
        workers = [node_name(prefix, phase).replace("%h", socket.gethostname()) for phase in "12"]
        assert len(app.control.ping(destination=workers, timeout=2)) == 2
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        compose.remove_prefix(own)
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0  # the API is gone
    assert not app.control.ping(destination=workers, timeout=2)  # so are the workers
