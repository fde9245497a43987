"""Who the main job's worker runs as: never root when an unprivileged user can run it.

`dropsift up` started as root runs its Celery worker as DROPSIFT_ES_RUN_USER (the stack's
system user), as it already runs Elasticsearch. That needs a Python the user can reach: an
interpreter under a private home (a pyenv build in /root, say) is not, and then the worker
stays root, said loudly, rather than not running at all.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RunAs:
    """How to start a child process as another user."""

    user: pwd.struct_passwd
    home: Path

    def popen_options(self) -> dict[str, object]:
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}

    def env(self, env: dict[str, str]) -> dict[str, str]:
        return {**env, "HOME": str(self.home), "USER": self.user.pw_name}


def runs(user: pwd.struct_passwd, command: list[str], cwd: Path) -> tuple[bool, str]:
    """Whether `command` runs as `user` (exit 0), and what it printed."""
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            user=user.pw_uid,
            group=user.pw_gid,
            extra_groups=[],
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    return done.returncode == 0, (done.stdout + done.stderr).strip()[-500:]


def worker_run_as(user_name: str, state_dir: Path, project: Path) -> RunAs | None:
    """The user to run the worker as, or None: not root, or the user cannot run it."""
    if os.geteuid() != 0:
        return None
    try:
        user = pwd.getpwnam(user_name)
    except KeyError:
        log.warning("worker_runs_as_root", why=f"no user {user_name!r}")
        return None
    ok, output = runs(user, [sys.executable, "-c", "import worker.celery_app"], project)
    if not ok:
        log.warning(
            "worker_runs_as_root",
            user=user_name,
            why=f"{user_name} cannot run {sys.executable} with this project: {output}",
        )
        return None
    home = state_dir / f"home-{user_name}"
    for folder in (home, state_dir / "metrics"):
        folder.mkdir(parents=True, exist_ok=True)
        os.chown(folder, user.pw_uid, user.pw_gid)
    return RunAs(user, home)
