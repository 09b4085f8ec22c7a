"""`llmbench export otel`: the audit log's history sent to an OpenTelemetry collector as GenAI
spans (live calls go as they are recorded, from [otel] endpoint)."""

from __future__ import annotations

import click

from llmbench.cli.common import BadInput, cli_settings, db_option, resolve_db
from llmbench.cli.logs import _logs_query


@click.group("export")
def export_group() -> None:
    """Send the audit log's calls to other tools."""


def _headers(values: tuple[str, ...]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for value in values:
        name, sep, content = value.partition("=")
        if not sep or not name.strip():
            raise click.UsageError(f"--header takes NAME=VALUE, not {value!r}")
        headers[name.strip()] = content
    return headers


@export_group.command("otel")
@click.option(
    "--endpoint",
    help="OTLP/HTTP collector, e.g. http://localhost:4318 (/v1/traces is added). Default: [otel]"
    " endpoint.",
)
@click.option("--since", help="From this date (2025-05-01) or span (7d).")
@click.option("--until", help="Up to this date.")
@click.option("--query", "-q", default="", help="As typed in F6, e.g. 'status:error model:gpt'.")
@click.option(
    "--bodies/--no-bodies",
    default=None,
    help="Send the messages and answers too. Default: [otel] include_bodies (off).",
)
@click.option("--header", multiple=True, help="NAME=VALUE sent with each export (repeatable).")
@db_option
@click.pass_context
def export_otel(
    ctx: click.Context,
    endpoint: str | None,
    since: str | None,
    until: str | None,
    query: str,
    bodies: bool | None,
    header: tuple[str, ...],
    db: str | None,
) -> None:
    """Send the matching calls, oldest first, to a collector as OpenTelemetry GenAI spans
    (Langfuse, Arize Phoenix, Jaeger, Grafana Tempo, an OpenTelemetry Collector).

    A conversation's calls share one trace and each step sits under the step it was made in.
    Keys were redacted when the calls were recorded; messages and answers go only with
    --bodies. Exits 1 when the collector stops taking spans, saying how many were sent.
    """
    from llmbench.core.audit.query import QueryError
    from llmbench.services.audit import browser as audit_log
    from llmbench.services.audit.otel_export import Destination, OtelExportError, export_spans
    from llmbench.services.database import open_store

    settings = cli_settings().otel
    url = endpoint or settings.endpoint
    if not url:
        raise click.UsageError("give --endpoint URL (or set [otel] endpoint in the config)")
    if not url.startswith(("http://", "https://")):
        raise BadInput(f"--endpoint must be an http(s) URL, not {url!r}")
    destination = Destination(
        url,
        tuple(sorted({**settings.headers, **_headers(header)}.items())),
        settings.include_bodies if bodies is None else bodies,
        settings.service_name,
        settings.timeout_s,
    )
    text = _logs_query(query, {"since": since, "until": until})
    with open_store(resolve_db(ctx, db), create=False) as store:
        try:
            flt = audit_log.compile_query(store, text)
        except QueryError as error:
            raise click.UsageError(f"--query: {error.message}") from None
        try:
            sent = export_spans(store, flt, destination)
        except OtelExportError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"sent {sent:,} span{'s' if sent != 1 else ''} to {url}", err=True)
