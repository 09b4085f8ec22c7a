"""`llmbench import`: other tools' logs into the audit log, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from llmbench.cli.common import (
    db_option,
    resolve_db,
)

if TYPE_CHECKING:
    pass


@click.group("import")
def import_group() -> None:
    """Bring other tools' logged calls into the audit log, to audit their spend offline.

    All or nothing: a file with a bad row is refused whole (each problem with its line) and
    nothing is written. Importing the same file again adds nothing.
    """


def _run_import(
    ctx: click.Context, kind: str, path: Path, db: str | None, mapping: dict[str, str] | None
) -> None:
    from llmbench.importers.calls_common import CallImportError
    from llmbench.services.costs_import import import_file
    from llmbench.services.database import open_store

    def progress(done: int, total: int) -> None:
        if total:
            click.echo(f"\r{done:,} / {total:,}", nl=False, err=True)

    with open_store(resolve_db(ctx, db)) as store:
        try:
            outcome = import_file(store, kind, path, mapping, progress=progress)
        except CallImportError as error:
            click.echo("", err=True)
            raise click.ClickException(f"import refused, nothing was written — {error}") from None
    click.echo("", err=True)
    click.echo(
        f"{path.name}: {outcome.read:,} calls read, {outcome.added:,} added, "
        f"{outcome.skipped:,} already in the log"
        + (f", {outcome.unpriced:,} unpriced (llmbench prices set)" if outcome.unpriced else "")
    )


@import_group.command("llm-logs")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
@click.pass_context
def import_llm_logs(ctx: click.Context, path: Path, db: str | None) -> None:
    """simonw/llm's logs.db (`llm logs path`): both its `turns` and older `responses` shapes."""
    _run_import(ctx, "llm-logs", path, db, None)


@import_group.command("jsonl")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "maps", multiple=True, help="FIELD=PATH, e.g. ts=startTime (repeatable).")
@db_option
@click.pass_context
def import_jsonl(ctx: click.Context, path: Path, maps: tuple[str, ...], db: str | None) -> None:
    """JSON lines: OpenAI-style request/response pairs, batch output, litellm spend logs."""
    from llmbench.importers.jsonl_calls import parse_map

    try:
        mapping = parse_map(maps)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    _run_import(ctx, "jsonl", path, db, mapping)


@import_group.command("usage-csv")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
@click.pass_context
def import_usage_csv(ctx: click.Context, path: Path, db: str | None) -> None:
    """An OpenAI usage export (CSV): one call row per bucket, its request count in tags."""
    _run_import(ctx, "usage-csv", path, db, None)
