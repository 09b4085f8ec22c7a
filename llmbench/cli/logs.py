"""`llmbench logs`: export the audit log, filtered, to JSONL or CSV."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from llmbench.cli.common import (
    db_option,
    resolve_db,
)


@click.group()
def logs() -> None:
    """The audit log's calls: export them, filtered as in the F6 query bar."""


def _logs_query(query: str, options: dict[str, tuple[str, ...] | str | None]) -> str:
    """The F6 query language, from --query plus the shortcut options (quoted values)."""
    terms = [query] if query else []
    for key, value in options.items():
        values = value if isinstance(value, tuple) else (() if value is None else (value,))
        for one in values:
            terms.append(f'{key}:"{one}"')
    return " ".join(terms)


@logs.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), help="Default: from PATH's ending."
)
@click.option("--query", "-q", default="", help="As typed in F6, e.g. 'status:error \"refund\"'.")
@click.option("--model", multiple=True, help="Only calls answered by this model (repeatable).")
@click.option("--status", multiple=True, help="ok, error, timeout, rate_limited, blocked, ...")
@click.option("--feature", multiple=True, help="Only calls tagged with this feature.")
@click.option("--since", help="From this date (2025-05-01) or span (7d).")
@click.option("--until", help="Up to and including this date.")
@db_option
@click.pass_context
def logs_export(
    ctx: click.Context,
    path: str,
    fmt: str | None,
    query: str,
    model: tuple[str, ...],
    status: tuple[str, ...],
    feature: tuple[str, ...],
    since: str | None,
    until: str | None,
    db: str | None,
) -> None:
    """Write the matching calls, oldest first, to PATH as JSON lines or CSV (- for stdout).

    Rows stream from the database, so any size exports in little memory. Bodies were
    redacted when the calls were recorded; no key is ever in an export. A new file is
    private (0600) and put in place whole; a FIFO or device is written through and a
    symbolic link followed, never replaced.
    """
    from llmbench.core.audit.query import QueryError
    from llmbench.services.audit import browser as audit_log
    from llmbench.services.database import open_store

    text = _logs_query(
        query,
        {"model": model, "status": status, "feature": feature, "since": since, "until": until},
    )
    try:
        chosen = audit_log.format_for(Path(path), fmt) if path != "-" else (fmt or "jsonl")
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    with open_store(resolve_db(ctx, db), create=False) as store:
        try:
            flt = audit_log.compile_query(store, text)
        except QueryError as error:
            raise click.UsageError(f"--query: {error.message}") from None
        try:
            if path == "-":
                written = audit_log.export_calls(store, flt, sys.stdout, chosen)  # type: ignore[arg-type]
            else:
                written = audit_log.export_to_file(store, flt, Path(path), chosen)  # type: ignore[arg-type]
        except OSError as error:
            raise click.ClickException(f"cannot write {path}: {error.strerror}") from None
    click.echo(f"exported {written:,} call{'s' if written != 1 else ''} to {path}", err=True)
