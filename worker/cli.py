"""The `dropsift` command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Annotated

import structlog
import typer
from elasticsearch import Elasticsearch
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from worker import compose, stack
from worker.ingest import IngestReport
from worker.kibana_cli import kibana_cli
from worker.logs import configure_logging
from worker.pipeline.states import FileState
from worker.privileges import RunAs, worker_run_as
from worker.settings import PROJECT_ROOT, Settings, get_settings

cli = typer.Typer(
    help="dropsift: files in, clean searchable documents out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
stack_cli = typer.Typer(
    help="The local Redis and Elasticsearch (no Docker needed).", no_args_is_help=True
)
cli.add_typer(stack_cli, name="stack")
cli.add_typer(kibana_cli, name="kibana")
out = Console()


def _settings() -> Settings:
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    return settings


log = structlog.get_logger(__name__)


def _stack_up(settings: Settings) -> dict[str, str]:
    try:
        started = stack.up(settings)
    except stack.StackError as exc:
        out.print("[red]Cannot start the stack:[/red]", escape(str(exc)))
        raise typer.Exit(1) from exc
    from search.index import needs_reindex

    es = stack.es_client(settings, timeout=120)
    _say_es(settings, es, started["elasticsearch"])
    sink = compose.index_sink(settings, es)
    sink.ensure()
    if needs_reindex(es, settings.alias):
        _reindex(settings, es, drop_old=True)
    sink.ensure_events(settings.index_prefix)
    return started


def _say_es(settings: Settings, es: Elasticsearch, how: str) -> None:
    """Which Elasticsearch answers and where its English analysis comes from; loud if not 9."""
    from search.index import english_analysis

    version = stack.es_version_running(es)
    analysis = english_analysis(es)
    out.print(
        f"elasticsearch {version} at {settings.es_url}; English analysis: "
        f"{analysis or '[red]none[/red]'}"
    )
    explicit = "es_version" in settings.model_fields_set
    if int(version.split(".")[0]) < 9 and how == "started" and not explicit:
        out.print(
            f"[bold yellow]Elasticsearch {version}, not 9.x[/bold yellow]: no Java 21+ with "
            "jdk.incubator.vector was found (see the README's local stack section)"
        )
    if analysis is None:
        out.print(
            "[red]This Elasticsearch has no `stemmer`/`asciifolding` filters[/red]: a full "
            "distribution has them (analysis-common); a local one started by an older "
            "dropsift needs `dropsift stack down && dropsift stack up`"
        )
        raise typer.Exit(1)


def _reindex(settings: Settings, es: Elasticsearch, drop_old: bool) -> None:
    """Run the copy with a progress bar and print the outcome; exit 1 if counts differ."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from search.reindex import reindex

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=out,
        disable=not out.is_terminal,
    ) as bar:
        task = bar.add_task(f"reindexing {settings.alias}", total=None)
        report = reindex(
            es,
            settings.alias,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            drop_old=drop_old,
        )
    if not report.swapped:
        out.print(f"{settings.alias} is already on {report.target}: nothing to do")
        return
    out.print(
        f"{settings.alias}: {report.source} -> {report.target}, {report.copied} documents "
        f"copied in {report.seconds:.1f}s, {report.caught_up} caught up and "
        f"{report.deleted} deleted after the swap; counts {report.source_count} (old) / "
        f"{report.target_count} (new)"
    )
    if report.rejected:
        out.print(f"[red]{len(report.rejected)} documents refused by the new mapping[/red]")
    if report.source_count != report.target_count or report.rejected:
        out.print(f"[red]counts differ: {report.source} is kept[/red]")
        raise typer.Exit(1)


# --- stack --------------------------------------------------------------------------------


@cli.command("reindex")
def reindex_command(
    keep_old: Annotated[bool, typer.Option(help="keep the old index after the swap")] = False,
) -> None:
    """Copy the documents into the current index version, then swap the alias (no downtime)."""
    from search.index import ensure_index

    settings = _settings()
    es = stack.es_client(settings, timeout=120)
    ensure_index(es, settings.alias)
    _reindex(settings, es, drop_old=not keep_old)


@stack_cli.command("up")
def stack_up() -> None:
    """Start (or reuse) Redis and Elasticsearch and create the index."""
    settings = _settings()
    for name, how in _stack_up(settings).items():
        out.print(f"{name}: {how}")


@stack_cli.command("down")
def stack_down() -> None:
    """Stop the Redis and Elasticsearch this stack started."""
    for name, stopped in stack.down(_settings()).items():
        out.print(f"{name}: {'stopped' if stopped else 'not started by dropsift'}")


@stack_cli.command("status")
def stack_status() -> None:
    """Whether each service answers. Exit code 1 when one does not."""
    services = stack.status(_settings())
    for s in services:
        out.print(
            f"{s.name:14} {'up' if s.up else 'down':5} {s.url}  pid={s.pid or '-'} {s.detail}"
        )
    raise typer.Exit(0 if all(s.up for s in services) else 1)


# --- processes ----------------------------------------------------------------------------


def node_name(prefix: str, phase: str) -> str:
    """The worker's Celery node name: `<prefix>@host`, with the phase when it serves one."""
    return f"{prefix}@%h" if phase == "all" else f"{prefix}-phase{phase}@%h"


@cli.command()
def worker(
    concurrency: Annotated[int | None, typer.Option(help="pool size")] = None,
    phase: Annotated[
        str,
        typer.Option(
            help="1: extract, clean, dedupe, index (searchable); 2: entities, keywords, "
            "stories (the enrichment queue); all: both, phase 1's queue first"
        ),
    ] = "all",
    nice: Annotated[int, typer.Option(help="scheduling niceness of the worker")] = 0,
) -> None:
    """Run a Celery worker for the pipeline: phase 1, phase 2 or both."""
    if phase not in ("1", "2", "all"):
        raise typer.BadParameter("--phase is 1, 2 or all")
    settings = _settings()
    if not os.environ.get(_SUPERVISED):
        args = ["--phase", phase, "--nice", str(nice)]
        if concurrency:
            args += ["--concurrency", str(concurrency)]
        raise typer.Exit(_supervise(args))
    if settings.worker_metrics_port:
        _metrics_folder(settings)
    from worker.celery_app import app, queues_of

    if nice:
        # A phase 2 worker beside a phase 1 worker on the same cores: the CPU goes to the
        # documents waiting to become searchable first.
        os.nice(nice)
    app.worker_main(
        [
            "worker",
            "--loglevel",
            settings.log_level,
            "-Q",
            ",".join(queues_of(settings, phase)),
            "--concurrency",
            str(concurrency or settings.worker_concurrency),
            "-n",
            node_name(settings.index_prefix, phase),
            "--without-gossip",
            "--without-mingle",
        ]
    )


_SUPERVISED = "DROPSIFT_WORKER_SUPERVISED"


def _supervise(args: list[str], max_restarts: int = 5) -> int:
    """Run the Celery worker as a child and start it again when it dies on its own.

    Celery's main process can die of a broker connection lost at the wrong moment (kombu,
    closing the lost connection, fails with "Unrecoverable error: AttributeError" in
    `_connparams`): its messages come back to the queue, and a worker that is started
    again takes them. More than `max_restarts` deaths within a minute end it, loudly.
    Signals are passed on; the child shares the process group, so a group kill stops both.
    """
    env = {**os.environ, _SUPERVISED: "1"}
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def forward(signum: int, _: object) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    deaths: list[float] = []
    while True:
        child = subprocess.Popen([sys.executable, "-m", "worker.cli", "worker", *args], env=env)
        code = child.wait()
        if stopping or code == 0:
            return code
        now = time.monotonic()
        deaths = [t for t in deaths if now - t < 60] + [now]
        if len(deaths) > max_restarts:
            log.error("worker_gave_up", exit_code=code, deaths=len(deaths))
            return code
        log.warning("worker_restarted", exit_code=code, deaths=len(deaths))
        time.sleep(1)


def _metrics_folder(settings: Settings) -> None:
    """A fresh folder for the pool children's metric files, named before anything imports
    prometheus_client (it picks its multiprocess mode at import)."""
    import shutil

    folder = settings.state_dir / "metrics" / f"worker-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


@cli.command()
def watch() -> None:
    """Watch the inbox and queue every file that lands in it."""
    settings = _settings()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        compose.watcher(settings).run(stop)
    except KeyboardInterrupt:
        stop.set()


@cli.command()
def api(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Serve the HTTP API: search and push (OpenAPI docs at /docs)."""
    import uvicorn

    settings = _settings()
    es = compose.es_client(settings)
    sink = compose.index_sink(settings, es)
    sink.ensure()  # healthy from the start, before the first document
    sink.ensure_events(settings.index_prefix)  # the outcomes data view has its fields
    app = compose.api_app(settings, es)
    uvicorn.run(
        app, host=host or settings.api_host, port=port or settings.api_port, log_config=None
    )


# --- one-shot commands --------------------------------------------------------------------


def _print_report(report: IngestReport) -> None:
    table = Table(title=f"{report.files} files in {report.seconds:.1f}s")
    for column in ("file", "state", "reason / document"):
        table.add_column(column, overflow="fold")
    for e in report.entries:
        detail = (e.reason and f"{e.reason}: {e.last_error}") or e.doc_id[:16]
        if e.duplicate_of:
            detail = f"same content as {e.duplicate_of}"
        table.add_row(e.path, e.state, detail)
    for path, error in sorted(report.not_queued.items()):
        table.add_row(path, "not queued", error)
    out.print(table)
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(report.states.items()))
    out.print(f"[bold]{summary or 'nothing to do'}[/bold]")


@cli.command()
def ingest(
    path: Annotated[Path, typer.Argument(exists=True, help="a file or a folder")],
    timeout: Annotated[float, typer.Option(help="seconds to wait for the worker")] = 600,
) -> None:
    """Queue every file under PATH (a worker must be running) and wait for the outcome."""
    from worker.ingest import ingest as run_ingest

    settings = _settings()
    report = run_ingest(
        path,
        compose.ledger(settings),
        compose.publisher(settings).process,
        timeout=timeout,
        show_progress=out.is_terminal,
        batch_size=settings.batch_size,
    )
    _print_report(report)
    raise typer.Exit(1 if report.timed_out or report.not_queued else 0)


@cli.command()
def search(
    query: Annotated[str, typer.Argument(help="simple_query_string syntax")],
    size: Annotated[int, typer.Option(help="hits to show")] = 10,
) -> None:
    """Print ranked hits with highlights."""
    from search.query import SearchParams, build_search, parse_response
    from search.typos import find_spellings

    settings = _settings()
    es = stack.es_client(settings)
    params = SearchParams(
        q=query,
        per_page=size,
        pre_tag="[bold yellow]",
        post_tag="[/]",
        spellings=find_spellings(es, settings.alias, query),  # typos as the API finds them
    )
    body = build_search(params)
    body["highlight"]["encoder"] = "default"
    response = es.search(index=settings.alias, body=body)
    result = parse_response(response.body, params)
    out.print(f"{result['total']['value']} hits ({result['took_ms']} ms)")
    for i, hit in enumerate(result["hits"], 1):
        title = (hit["highlight"].get("title") or [hit.get("title") or hit["id"]])[0]
        out.print(
            f"\n{i}. {title}  [dim]{hit['published'][:16]} · {hit.get('language')} · "
            f"{hit['id'][:12]}[/dim]"
        )
        for fragment in hit["highlight"].get("body", [])[:2]:
            out.print(f"   …{' '.join(fragment.split())}…")
        out.print(f"   [dim]{', '.join(hit['sources'])}[/dim]")


@cli.command("clean")
def clean_command(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="one input file")],
) -> None:
    """Print what extraction and cleaning make of one file, as JSON (no services needed)."""
    import json

    from tasks.clean import clean
    from tasks.errors import Rejected
    from tasks.extract import read_file

    settings = get_settings()
    try:
        extraction = read_file(path.resolve(), settings.max_file_bytes, settings.json_fields)
    except Rejected as rejected:
        print(
            json.dumps(
                {"source": str(path), "rejected": rejected.reason, "detail": rejected.detail},
                indent=2,
            )
        )
        raise typer.Exit(1) from rejected
    shown = []
    for doc in extraction.documents:
        cleaned = clean(doc)
        shown.append(
            {
                "source": cleaned.source,
                "format": cleaned.format,
                "title": cleaned.title,
                "title_from": cleaned.title_from,
                "published": cleaned.published.isoformat() if cleaned.published else None,
                "published_from": cleaned.published_from,
                "section": cleaned.section,
                "author": cleaned.author,
                "url": cleaned.url,
                "site": cleaned.site,
                "body": cleaned.body,
                "cleaning": cleaned.cleaning,
            }
        )
    shown += [
        {"source": source, "rejected": why.reason, "detail": why.detail}
        for source, why in extraction.rejected
    ]
    print(json.dumps(shown[0] if len(shown) == 1 else shown, indent=2, ensure_ascii=False))


@cli.command()
def similarity(
    a: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    b: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
) -> None:
    """Compare two files after cleaning: Jaccard estimate and exact, and the verdict."""
    import json

    from tasks.clean import clean
    from tasks.enrich import enrich_batch
    from tasks.extract import read_file
    from tasks.neardup import compare
    from tasks.story import match

    settings = get_settings()
    docs = [clean(read_file(p.resolve(), settings.max_file_bytes).documents[0]) for p in (a, b)]
    result = compare(docs[0].body, docs[1].body, settings.neardup_threshold)
    if result["verdict"] == "unrelated":
        # Different texts may still tell the same story: compare who and where they name.
        first, second = (vars(d) for d in enrich_batch(docs, ["language", "entities"]))
        story = match(first, second)
        result["shared_people"] = story.shared_people
        result["entity_overlap"] = round(story.overlap, 3)
        if story.same_story:
            result["verdict"] = "same story"
    print(json.dumps({"a": str(a), "b": str(b), **result}, indent=2))


@cli.command()
def status() -> None:
    """What happened to every file: counts by state, and the quarantine with reasons."""
    settings = _settings()
    ledger = compose.ledger(settings)
    entries = sorted(ledger.entries(), key=lambda e: e.path)
    counts: dict[str, int] = {}
    for e in entries:
        counts[e.state] = counts.get(e.state, 0) + 1
    out.print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "no files yet")
    phase2: dict[str, int] = {}
    for e in entries:
        if e.enrichment:
            phase2[e.enrichment] = phase2.get(e.enrichment, 0) + 1
    if phase2:
        out.print("enrichment " + ", ".join(f"{k}: {v}" for k, v in sorted(phase2.items())))
    for e in entries:
        if e.state == FileState.QUARANTINED:
            out.print(f"[red]quarantined[/red] {e.path}: {e.reason}: {e.last_error}")


# --- the main job -------------------------------------------------------------------------


def _spawn(
    args: list[str], env: dict[str, str], run_as: RunAs | None = None
) -> subprocess.Popen[bytes]:
    options = run_as.popen_options() if run_as else {}
    return subprocess.Popen(  # type: ignore[call-overload]
        [sys.executable, "-m", "worker.cli", *args],
        env=run_as.env(env) if run_as else env,
        cwd=PROJECT_ROOT,
        start_new_session=True,
        **options,
    )


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


class _WatcherThread:
    """The inbox watcher in a thread of the main job, started again if it ever dies.

    It keeps going through outages on its own; a thread that still dies (inotify refused,
    say) is restarted, up to `max_restarts` within a minute, after which the main job stops
    loudly rather than run on without anyone watching the inbox.
    """

    def __init__(self, settings: Settings, stop: threading.Event, max_restarts: int = 3) -> None:
        self.settings = settings
        self.stop = stop
        self.max_restarts = max_restarts
        self.restarts: list[float] = []
        self.thread = self._start()

    def _start(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        return thread

    def _run(self) -> None:
        try:
            compose.watcher(self.settings).run(self.stop)
        except Exception as exc:
            log.error("watcher_died", error=repr(exc)[:300])

    def check(self) -> bool:
        """False when the watcher died too often; restarts it otherwise."""
        if self.thread.is_alive() or self.stop.is_set():
            return True
        now = time.monotonic()
        self.restarts = [t for t in self.restarts if now - t < 60] + [now]
        if len(self.restarts) > self.max_restarts:
            log.error("watcher_gave_up", restarts=len(self.restarts))
            return False
        log.warning("watcher_restarted", restarts=len(self.restarts))
        self.thread = self._start()
        return True

    def join(self, timeout: float) -> None:
        self.thread.join(timeout=timeout)


def phase_environments(
    settings: Settings, env: dict[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """The phase 1 and phase 2 workers' environments on one machine: each serves its
    metrics on a port of its own (the configured one, and the next)."""
    port = settings.worker_metrics_port
    if not port:
        return env, env
    return (
        {**env, "DROPSIFT_WORKER_METRICS_PORT": str(port)},
        {**env, "DROPSIFT_WORKER_METRICS_PORT": str(port + 1)},
    )


def _first_searchable(settings: Settings, started: float, found: list[float]) -> None:
    if found:
        return
    try:
        if stack.es_client(settings).count(index=settings.alias)["count"] > 0:
            found.append(time.monotonic() - started)
    except Exception:
        pass


@cli.command()
def up(
    seeds: Annotated[Path, typer.Option(help="folder ingested at start")] = PROJECT_ROOT / "seeds",
    once: Annotated[bool, typer.Option(help="stop everything after ingesting the seeds")] = False,
) -> None:
    """The main job: start the stack, a worker, the watcher and the API; ingest the seeds."""
    from worker.ingest import ingest as run_ingest

    # Ctrl-C and SIGTERM stop everything, also when started with Ctrl-C ignored (as `cmd &`
    # from a script does), so the children below are never left running.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    started_at = time.monotonic()
    settings = _settings()
    services = _stack_up(settings)
    out.print(
        f"redis {services['redis']} at {settings.redis_url}, elasticsearch "
        f"{services['elasticsearch']} at {settings.es_url}"
    )
    env = {**os.environ}
    # Started as root, the Celery workers run as the stack's unprivileged user when it can.
    run_as = worker_run_as(settings.es_run_user, settings.state_dir, PROJECT_ROOT)
    if os.geteuid() == 0:
        who = run_as.user.pw_name if run_as else "root (see the worker_runs_as_root event)"
        out.print(f"workers run as {who}")
    # Phase 1 and phase 2 in workers of their own: enrichment (the model) never takes the
    # CPU from documents on their way to search.
    first_env, second_env = phase_environments(settings, env)
    children = [
        _spawn(["worker", "--phase", "1"], first_env, run_as),
        _spawn(["worker", "--phase", "2", "--nice", "10"], second_env, run_as),
        _spawn(["api"], env),
    ]
    if settings.worker_metrics_port:
        out.print(
            f"worker metrics: phase 1 on :{first_env['DROPSIFT_WORKER_METRICS_PORT']}/metrics, "
            f"phase 2 on :{second_env['DROPSIFT_WORKER_METRICS_PORT']}/metrics"
        )
    stop = threading.Event()
    watcher = _WatcherThread(settings, stop)
    failed = False
    try:
        first: list[float] = []
        report = run_ingest(
            seeds,
            compose.ledger(settings),
            compose.publisher(settings).process,
            timeout=600,
            show_progress=out.is_terminal,
            on_tick=lambda: _first_searchable(settings, started_at, first),
        )
        _print_report(report)
        # Indexed is not yet searchable: wait (about one refresh interval) until it is.
        indexed = {e.doc_id for e in report.entries if e.state == FileState.INDEXED}
        es = stack.es_client(settings)
        deadline = time.monotonic() + 10
        while (count := es.count(index=settings.alias)["count"]) < len(indexed):
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        _first_searchable(settings, started_at, first)
        api_url = f"http://{settings.api_host}:{settings.api_port}"
        out.print(
            f"\n[bold]{count} documents searchable[/bold] in {settings.alias}"
            + (f"; first one {first[0]:.1f}s after start" if first else "")
        )
        out.print(
            f"  search API   {api_url}/api/search?q=Istanbul\n"
            f"  API docs     {api_url}/docs\n"
            f"  terminal     dropsift search Istanbul\n"
            f"  Elasticsearch {settings.es_url}/{settings.alias}/_search\n"
            f"  drop files in {settings.inbox} (write to a temp name, then rename)"
        )
        if report.timed_out:
            raise typer.Exit(1)
        if not once:
            out.print("Running; Ctrl-C stops everything.")
            while not stop.is_set():
                stop.wait(1)
                if any(child.poll() is not None for child in children):
                    out.print("[red]a child process exited; stopping[/red]")
                    failed = True
                    break
                if not watcher.check():
                    out.print("[red]the inbox watcher kept dying; stopping[/red]")
                    failed = True
                    break
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        watcher.join(timeout=10)
        if not once:
            started = {name for name, how in services.items() if how == "started"}
            if started:
                out.print(f"stopping {', '.join(sorted(started))}")
                stack.down(settings, only=started)
    if failed:
        raise typer.Exit(1)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
