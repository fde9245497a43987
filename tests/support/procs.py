"""Processes of the stack as a test runs them: started, stopped and measured from outside."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.waiting import wait_for
from worker.settings import PROJECT_ROOT

# Root reads every file whatever its mode, through these two capabilities. Without them a
# process keeps uid 0 but meets permission bits as any other user does: the honest way to
# test unreadable files when the suite runs as root.
NO_DAC_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]


class Service:
    """A `dropsift` command in its own process group, with its log in a file."""

    def __init__(
        self, args: list[str], env: dict[str, str], log_path: Path, wrap: list[str] | None = None
    ) -> None:
        self.argv = [*(wrap or []), sys.executable, "-m", "worker.cli", *args]
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, ready: bytes, timeout: float = 90.0) -> None:
        """Start it and wait until its log, from now on, says `ready`."""
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=PROJECT_ROOT,
                start_new_session=True,
            )

        def started() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                pytest.fail(f"{self.argv} exited with {self.proc.returncode}:\n{self.tail()}")
            return ready in self.log_path.read_bytes()[offset:]

        wait_for(started, timeout, what=f"{' '.join(self.argv[-2:])} to be ready")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: the main process and its children."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not end within 30 s."""
        if not self.alive():
            return
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    def text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.text().splitlines()[-lines:])


def group_pids(pgid: int) -> list[int]:
    """Every live process of a process group (a Celery worker and its pool children)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.append(int(entry.name))
            except ProcessLookupError:
                continue
    return pids


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def reset_peaks(pgid: int) -> dict[int, int]:
    """Reset each process's peak RSS (VmHWM) to its current RSS; returns pid -> RSS in KiB."""
    now = {}
    for pid in group_pids(pgid):
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # 5: reset the peak RSS (Linux ≥ 4.0)
        now[pid] = _status_kib(pid, "VmRSS")
    return now


def peaks(pgid: int) -> dict[int, int]:
    """Peak RSS (VmHWM) in KiB of each process of the group."""
    return {pid: _status_kib(pid, "VmHWM") for pid in group_pids(pgid)}


def run_cli(
    *args: str, env: dict[str, str], wrap: list[str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run a `dropsift` command to its end; output decoded leniently (file names may not be)."""
    return subprocess.run(
        [*(wrap or []), sys.executable, "-m", "worker.cli", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
    )


class WorkerProcess(Service):
    """A real `dropsift worker` (Celery prefork) in its own process group."""

    def __init__(
        self, env: dict[str, str], log_path: Path, concurrency: int = 2, phase: str = "all"
    ) -> None:
        super().__init__(
            ["worker", "--concurrency", str(concurrency), "--phase", phase], env, log_path
        )
        self.concurrency = concurrency
        self.phase = phase
        """The queues it serves: "1" (to searchable), "2" (enrichment) or "all"."""

    def start(self, timeout: float = 60.0) -> None:  # type: ignore[override]
        super().start(b" ready.", timeout)
