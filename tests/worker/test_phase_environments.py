"""`dropsift up` runs a phase 1 and a phase 2 worker on one machine: ports of their own."""

from __future__ import annotations

from worker.cli import phase_environments
from worker.settings import Settings


def test_the_two_workers_serve_their_metrics_on_ports_of_their_own() -> None:
    first, second = phase_environments(Settings(worker_metrics_port=9500), {"A": "1"})
    assert first == {"A": "1", "DROPSIFT_WORKER_METRICS_PORT": "9500"}
    assert second == {"A": "1", "DROPSIFT_WORKER_METRICS_PORT": "9501"}


def test_metrics_turned_off_stay_off_for_both() -> None:
    first, second = phase_environments(Settings(worker_metrics_port=0), {"A": "1"})
    assert first == second == {"A": "1"}
