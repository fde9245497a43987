"""`dropsift kibana install`: the saved objects of search/kibana posted to a Kibana."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from search.kibana.install import KibanaError, import_objects, objects_for
from search.kibana.objects import DASHBOARD
from worker.settings import get_settings

kibana_cli = typer.Typer(
    help="Kibana: a data view, saved searches and a dashboard for dropsift.",
    no_args_is_help=True,
)


def _say(text: str) -> None:
    typer.echo(text, err=True)


@kibana_cli.command("install")
def install(
    url: Annotated[str | None, typer.Option(help="Kibana's URL [DROPSIFT_KIBANA_URL]")] = None,
    space: Annotated[
        str | None, typer.Option(help="Kibana space id [DROPSIFT_KIBANA_SPACE]")
    ] = None,
    user: Annotated[str | None, typer.Option(help="basic auth [DROPSIFT_KIBANA_USER]")] = None,
    password: Annotated[
        str | None, typer.Option(help="[DROPSIFT_KIBANA_PASSWORD]", hide_input=True)
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(help="encoded API key [DROPSIFT_KIBANA_API_KEY]")
    ] = None,
    ca_file: Annotated[
        Path | None, typer.Option(help="CA certificate for HTTPS [DROPSIFT_KIBANA_CA_FILE]")
    ] = None,
    wait: Annotated[
        float, typer.Option(help="seconds to keep trying while Kibana is not up yet")
    ] = 0.0,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="print the NDJSON that would be sent, send nothing")
    ] = False,
) -> None:
    """Import the data views, saved searches and dashboard (overwriting earlier copies)."""
    settings = get_settings()
    ndjson = objects_for(settings.index_prefix)
    if dry_run:
        sys.stdout.write(ndjson)
        return
    kibana_url = url or settings.kibana_url
    space = space or settings.kibana_space
    if not (api_key or user):  # credentials given here replace the configured ones
        api_key, user = settings.kibana_api_key, settings.kibana_user
    if user and password is None and user == settings.kibana_user:
        password = settings.kibana_password
    try:
        result = import_objects(
            ndjson,
            kibana_url=kibana_url,
            space=space,
            user=user,
            password=password,
            api_key=api_key,
            ca_file=ca_file or settings.kibana_ca_file,
            wait=wait,
        )
    except KibanaError as exc:
        _say(f"error: {exc}")
        raise typer.Exit(1) from exc
    sent = ndjson.count("\n")
    where = f"{kibana_url.rstrip('/')}" + (f"/s/{space}" if space and space != "default" else "")
    if not result.success:
        for error in result.errors:
            _say(f"error: {error}")
        _say(f"Kibana imported {result.success_count} of {sent} objects; the others failed.")
        raise typer.Exit(1)
    _say(f"Kibana imported {result.success_count} of {sent} objects into {where}")
    _say(f"dashboard: {where}/app/dashboards#/view/{result.renamed.get(DASHBOARD, DASHBOARD)}")
