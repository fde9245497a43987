"""What the pipeline benches share: a private prefix and inbox, real worker processes, and
their CPU time and peak memory read from /proc."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worker import compose
from worker.celery_app import celery_app
from worker.settings import PROJECT_ROOT, Settings

_TICK = os.sysconf("SC_CLK_TCK")
ES_MAIN_CLASS = "org.elasticsearch.bootstrap.Elasticsearch"


def tree(pid: int) -> list[int]:
    """The process and its descendants, from /proc."""
    found = [pid]
    for p in found:
        children = Path(f"/proc/{p}/task/{p}/children")
        if children.exists():
            found += [int(c) for c in children.read_text().split()]
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of the processes, and of their children that were waited for."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime: fields 14-17 of stat, 12-15 after the name.
        total += sum(int(fields[i]) for i in (11, 12, 13, 14))
    return total / _TICK


def peak_rss_mb(pids: list[int]) -> float:
    """The largest peak RSS (VmHWM) among the processes, in MB."""
    peak = 0.0
    for pid in pids:
        try:
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]) / 1024)
    return peak


def _find(marker: bytes) -> int | None:
    """The first process whose command line holds the marker."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes():
                    return int(entry.name)
            except OSError:
                continue
    return None


def elasticsearch_pid() -> int | None:
    """The local Elasticsearch's process, for its CPU time (None when not on this machine)."""
    return _find(ES_MAIN_CLASS.encode())


def redis_pid(port: int = 6379) -> int | None:
    """The local redis-server serving this port (None when not on this machine)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # redis-server sets its title to "redis-server host:port": one argument.
                argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").split()
            except OSError:
                continue
            if (
                argv
                and argv[0].endswith(b"redis-server")
                and any(
                    a.endswith(f":{port}".encode()) or a == str(port).encode() for a in argv[1:]
                )
            ):
                return int(entry.name)
    return None


def machine_busy_seconds() -> float:
    """CPU seconds this machine spent on anything but idling, summed over its cores."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    # user nice system idle iowait irq softirq steal (guest time is inside user already)
    return (sum(fields[:8]) - fields[3] - fields[4]) / _TICK


@dataclass
class CpuBudget:
    """Where a run's CPU went: the machine's busy time and the parts of it we can name."""

    workers: list[Worker]
    redis_port: int = 6379
    start: dict[str, float] = field(default_factory=dict)

    def _now(self) -> dict[str, float]:
        es, rd = elasticsearch_pid(), redis_pid(self.redis_port)
        return {
            "machine": machine_busy_seconds(),
            "workers": sum(w.cpu() for w in self.workers),
            "elasticsearch": cpu_seconds([es]) if es else 0.0,
            "redis": cpu_seconds([rd]) if rd else 0.0,
            "bench (watcher, polling)": time.process_time(),
        }

    def begin(self) -> None:
        self.start = self._now()

    def end(self) -> dict[str, float]:
        """Seconds of each since begin(), and what no named process accounts for."""
        now = self._now()
        spent = {k: now[k] - self.start[k] for k in now}
        spent["other"] = spent["machine"] - sum(v for k, v in spent.items() if k != "machine")
        return spent


@dataclass
class Worker:
    """A `dropsift worker` process of one phase (or both)."""

    proc: subprocess.Popen[bytes]
    phase: str

    def cpu(self) -> float:
        return cpu_seconds(tree(self.proc.pid))

    def rss(self) -> float:
        return peak_rss_mb(tree(self.proc.pid))

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
        self.proc.wait(timeout=60)


def start_worker(
    env: dict[str, str], log: Path, *, phase: str, concurrency: int, nice: int = 0
) -> Worker:
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "worker.cli",
                "worker",
                "--phase",
                phase,
                "--concurrency",
                str(concurrency),
                "--nice",
                str(nice),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
            start_new_session=True,
        )
    return Worker(proc, phase)


def wait_ready(settings: Settings, workers: list[Worker], log: Path) -> None:
    """Until every worker answers a ping."""
    app = celery_app(settings)
    deadline = time.monotonic() + 120
    while len(app.control.ping(timeout=0.5) or []) < len(workers):
        if any(w.proc.poll() is not None for w in workers) or time.monotonic() > deadline:
            raise RuntimeError(f"workers did not start:\n{log.read_text()[-3000:]}")


def layout(
    settings: Settings, env: dict[str, str], log: Path, how: str, concurrency: int
) -> list[Worker]:
    """`one`: a worker of both phases; `split`: phase 1 alone (one process) beside phase 2
    (`concurrency` processes, niced), as `dropsift up` runs them."""
    if how == "one":
        workers = [start_worker(env, log, phase="all", concurrency=concurrency)]
    else:
        workers = [
            start_worker(env, log, phase="1", concurrency=1),
            start_worker(env, log, phase="2", concurrency=concurrency, nice=10),
        ]
    wait_ready(settings, workers, log)
    return workers


@contextmanager
def private_stack(
    redis_url: str, es_url: str, batch_size: int, enrichers: str | None = None
) -> Iterator[tuple[Settings, dict[str, str], Path]]:
    """Settings, worker environment and work folder of a prefix of its own, removed after."""
    workdir = Path(tempfile.mkdtemp(prefix="dropsift-bench-"))
    prefix = f"bench-{uuid.uuid4().hex[:6]}"
    extra: dict[str, Any] = {"enrichers": json.loads(enrichers)} if enrichers else {}
    settings = Settings(
        redis_url=redis_url,
        es_url=es_url,
        index_prefix=prefix,
        state_dir=workdir,
        inbox=workdir / "inbox",
        stable_seconds=0.2,
        rescan_seconds=600,
        batch_size=batch_size,
        **extra,
    )
    settings.inbox.mkdir()
    env = {
        **os.environ,
        "DROPSIFT_REDIS_URL": settings.redis_url,
        "DROPSIFT_ES_URL": settings.es_url,
        "DROPSIFT_INDEX_PREFIX": prefix,
        "DROPSIFT_INBOX": str(settings.inbox),
        "DROPSIFT_STATE_DIR": str(workdir),
        "DROPSIFT_BATCH_SIZE": str(batch_size),
        "DROPSIFT_STABLE_SECONDS": "0.2",
        "DROPSIFT_RESCAN_SECONDS": "600",
        "DROPSIFT_LOG_LEVEL": "WARNING",
        "DROPSIFT_LOG_FORMAT": "json",
        # Several workers on one machine, maybe beside a running `dropsift up`: no metrics.
        "DROPSIFT_WORKER_METRICS_PORT": "0",
    }
    if enrichers:
        env["DROPSIFT_ENRICHERS"] = enrichers
    try:
        yield settings, env, workdir
    finally:
        compose.remove_prefix(settings)
        shutil.rmtree(workdir, ignore_errors=True)
