"""Who the main job's worker runs as, checked with real processes and the real system user."""

from __future__ import annotations

import os
import pwd
import sys
from pathlib import Path

import pytest

from worker.privileges import runs, worker_run_as
from worker.settings import PROJECT_ROOT

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")


def _user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam("dropsift")
    except KeyError:
        pytest.fail("the stack's system user `dropsift` is missing: `dropsift stack up` makes it")


@root_only
def test_a_command_runs_as_the_unprivileged_user() -> None:
    user = _user()
    # Debian's own interpreter is readable by every user.
    ok, output = runs(user, ["/usr/bin/python3", "-c", "import os; print(os.geteuid())"], Path("/"))
    assert ok and output == str(user.pw_uid)


@root_only
def test_the_worker_runs_as_that_user_exactly_when_it_can_run_this_python(tmp_path: Path) -> None:
    user = _user()
    reachable, _ = runs(user, [sys.executable, "-c", "import worker.celery_app"], PROJECT_ROOT)
    run_as = worker_run_as(user.pw_name, tmp_path, PROJECT_ROOT)
    assert (run_as is not None) == reachable
    if run_as is not None:
        assert run_as.user.pw_uid == user.pw_uid
        assert (tmp_path / "metrics").stat().st_uid == user.pw_uid


def test_nobody_is_switched_to_a_user_that_does_not_exist(tmp_path: Path) -> None:
    assert worker_run_as("no-such-user-dropsift", tmp_path, PROJECT_ROOT) is None
