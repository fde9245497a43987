"""Which enricher runs in which phase, and which queues a worker of each phase serves."""

from __future__ import annotations

from tasks.enrichers import phase_of, split_phases
from worker.celery_app import create_app, queues_of
from worker.compose import ENRICH_DOCUMENTS, PROCESS_FILES
from worker.settings import Settings


def test_the_model_backed_enrichers_run_in_phase_2_and_plug_ins_in_phase_1() -> None:
    names = ["language", "keywords", "stats", "entities", "summary"]
    assert split_phases(names) == (("language", "stats", "summary"), ("keywords", "entities"))
    assert phase_of("tasks.enrichers.stats:StatsEnricher") == 1


def test_each_phase_has_its_queue_and_a_worker_of_both_serves_phase_1_first() -> None:
    settings = Settings(index_prefix="acme")
    assert queues_of(settings, "1") == ["acme"]
    assert queues_of(settings, "2") == ["acme-enrich"]
    assert queues_of(settings, "all") == ["acme", "acme-enrich"]
    app = create_app(settings)
    route = app.amqp.router.route({}, ENRICH_DOCUMENTS)
    assert route["queue"].name == "acme-enrich"
    assert app.amqp.router.route({}, PROCESS_FILES)["queue"].name == "acme"
    assert app.conf.broker_transport_options["queue_order_strategy"] == "priority"
