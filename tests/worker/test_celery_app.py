"""The Celery app's delivery settings (building the app connects to nothing)."""

from __future__ import annotations

import pytest

from worker.celery_app import create_app
from worker.settings import Settings


@pytest.mark.parametrize(("limit", "soft"), [(8, 7), (25, 22), (300, 270)])
def test_the_soft_time_limit_comes_shortly_before_the_hard_one(limit: int, soft: int) -> None:
    conf = create_app(Settings(task_time_limit=limit, visibility_timeout=limit + 5)).conf
    assert conf.task_time_limit == limit
    assert conf.task_soft_time_limit == soft


def test_at_least_once_delivery() -> None:
    conf = create_app(Settings(visibility_timeout=3600, task_time_limit=300)).conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    options = conf.broker_transport_options
    assert options["visibility_timeout"] == 3600
    # A dead worker's messages are swept back within a tenth of the timeout (capped at 60 s).
    assert options["unacked_restore_interval"] == 60 and options["unacked_restore_throttle"] == 1
    short = create_app(Settings(visibility_timeout=30, task_time_limit=25)).conf
    assert short.broker_transport_options["unacked_restore_interval"] == 3


def test_a_failed_or_timed_out_task_is_not_acknowledged_away() -> None:
    conf = create_app(Settings()).conf
    assert conf.task_acks_on_failure_or_timeout is False


def test_task_events_are_on_for_flower_and_exporters() -> None:
    conf = create_app(Settings()).conf
    assert conf.worker_send_task_events and conf.task_send_sent_event


def test_the_task_queue_needs_no_routing_table_in_redis() -> None:
    app = create_app(Settings(index_prefix="routing"))
    queue = app.amqp.queues["routing"]
    assert queue.exchange.name == "" and queue.routing_key == "routing"
