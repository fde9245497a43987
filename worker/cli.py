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

import redis
import typer
from rich.console import Console
from rich.table import Table

from worker import stack
from worker.enqueue import Send
from worker.ingest import IngestReport
from worker.ledger import Ledger
from worker.logs import configure_logging
from worker.settings import PROJECT_ROOT, Settings, get_settings
from worker.watcher import Watcher

cli = typer.Typer(
    help="dropsift: files in, clean searchable documents out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
stack_cli = typer.Typer(
    help="The local Redis and Elasticsearch (no Docker needed).", no_args_is_help=True
)
cli.add_typer(stack_cli, name="stack")
out = Console()


def _settings() -> Settings:
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    return settings


def _ledger(settings: Settings) -> Ledger:
    return Ledger(
        redis.Redis.from_url(settings.redis_url, decode_responses=True), settings.key_prefix
    )


def _forgetter() -> Send:
    from worker.celery_app import FORGET_FILES, app

    def forget(paths: list[str]) -> None:
        app.send_task(FORGET_FILES, args=[paths])

    return forget


def _sender() -> Send:
    from worker.celery_app import PROCESS_FILES, app

    def send(paths: list[str]) -> None:
        app.send_task(PROCESS_FILES, args=[paths])

    return send


def _stack_up(settings: Settings) -> dict[str, str]:
    try:
        started = stack.up(settings)
    except stack.StackError as exc:
        out.print(f"[red]Cannot start the stack:[/red] {exc}")
        raise typer.Exit(1) from exc
    from search.index import ensure_index

    ensure_index(stack.es_client(settings), settings.alias)
    return started


# --- stack --------------------------------------------------------------------------------


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


@cli.command()
def worker(concurrency: Annotated[int | None, typer.Option(help="pool size")] = None) -> None:
    """Run a Celery worker for the pipeline."""
    settings = _settings()
    from worker.celery_app import app

    app.worker_main(
        [
            "worker",
            "--loglevel",
            settings.log_level,
            "-Q",
            settings.index_prefix,
            "--concurrency",
            str(concurrency or settings.worker_concurrency),
            "-n",
            f"{settings.index_prefix}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
    )


def _watcher(settings: Settings) -> Watcher:
    return Watcher(
        settings.inbox,
        _ledger(settings),
        _sender(),
        stable_seconds=settings.stable_seconds,
        rescan_seconds=settings.rescan_seconds,
        stale_after=settings.visibility_timeout + settings.task_time_limit,
        batch_size=settings.batch_size,
        forget=_forgetter(),
    )


@cli.command()
def watch() -> None:
    """Watch the inbox and queue every file that lands in it."""
    settings = _settings()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        _watcher(settings).run(stop)
    except KeyboardInterrupt:
        stop.set()


@cli.command()
def api(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Serve the HTTP search API (OpenAPI docs at /docs)."""
    import uvicorn

    from search.api import create_app
    from search.client import make_client

    settings = _settings()
    es = make_client(
        settings.es_url,
        user=settings.es_user,
        password=settings.es_password,
        api_key=settings.es_api_key,
        ca_file=settings.es_ca_file,
    )
    from search.index import ensure_index

    ensure_index(es, settings.alias)  # healthy from the start, before the first document
    app = create_app(es, settings.alias, max_per_page=settings.max_per_page)
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
        _ledger(settings),
        _sender(),
        timeout=timeout,
        show_progress=out.is_terminal,
        batch_size=settings.batch_size,
    )
    _print_report(report)
    raise typer.Exit(1 if report.timed_out else 0)


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
    ledger = _ledger(settings)
    entries = sorted(ledger.entries(), key=lambda e: e.path)
    counts: dict[str, int] = {}
    for e in entries:
        counts[e.state] = counts.get(e.state, 0) + 1
    out.print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "no files yet")
    for e in entries:
        if e.state == "quarantined":
            out.print(f"[red]quarantined[/red] {e.path}: {e.reason}: {e.last_error}")


# --- the main job -------------------------------------------------------------------------


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "worker.cli", *args],
        env=env,
        cwd=PROJECT_ROOT,
        start_new_session=True,
    )


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


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
    children = [_spawn(["worker"], env), _spawn(["api"], env)]
    stop = threading.Event()
    watcher = _watcher(settings)
    watcher_thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    watcher_thread.start()
    try:
        first: list[float] = []
        report = run_ingest(
            seeds,
            _ledger(settings),
            _sender(),
            timeout=600,
            show_progress=out.is_terminal,
            on_tick=lambda: _first_searchable(settings, started_at, first),
        )
        _print_report(report)
        # Indexed is not yet searchable: wait (about one refresh interval) until it is.
        indexed = {e.doc_id for e in report.entries if e.state == "indexed"}
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
        watcher_thread.join(timeout=10)
        if not once:
            started = {name for name, how in services.items() if how == "started"}
            if started:
                out.print(f"stopping {', '.join(sorted(started))}")
                stack.down(settings, only=started)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
