"""`llmbench db`: the database in use, its facts and an integrity check."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from llmbench.cli.common import (
    FAILURE_EXIT,
    db_option,
    resolve_db,
)


@click.group()
def db() -> None:
    """The database file: where it is, what it holds, whether it is sound."""


@db.command("path")
@db_option
@click.pass_context
def db_path(ctx: click.Context, db: str | None) -> None:
    """Print the database path in use."""
    click.echo(str(resolve_db(ctx, db)))


@db.command("info")
@db_option
@click.pass_context
def db_info(ctx: click.Context, db: str | None) -> None:
    """Schema version, pragmas, row counts and size."""
    from llmbench.services.database import describe, open_store

    path = resolve_db(ctx, db)
    with open_store(path, create=False) as store:
        facts = describe(store)
    click.echo(f"file: {path}")
    click.echo(f"size: {facts.page_bytes / 1_048_576:.1f} MiB")
    click.echo(f"schema: {', '.join(facts.schema)}")
    click.echo("pragmas: " + ", ".join(f"{k}={v}" for k, v in facts.pragmas.items()))
    for table, count in facts.counts.items():
        click.echo(f"{table:>16}: {count:,}")


@db.command("check")
@db_option
@click.pass_context
def db_check(ctx: click.Context, db: str | None) -> None:
    """Run SQLite's integrity and foreign-key checks; exit 1 on any problem."""
    from llmbench.services.database import open_store, verify_file

    with open_store(resolve_db(ctx, db), create=False) as store:
        report = verify_file(store)
    if report.ok:
        click.echo("ok")
        return
    for line in report.integrity:
        click.echo(f"integrity: {line}")
    for problem in report.foreign_key_problems:
        click.echo(f"foreign key: {problem}")
    sys.exit(FAILURE_EXIT)


@db.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@db_option
@click.pass_context
def db_backup(ctx: click.Context, target: Path, db: str | None) -> None:
    """Copy the database to TARGET (a new file) while it is in use, then check the copy.

    To restore, stop llmbench and put the copy in place of the database file (or pass it with
    --db). The audit chain's key stays where it was: it is kept outside the database.
    """
    from llmbench.services.database import backup_to, open_store

    with open_store(resolve_db(ctx, db), create=False) as store:
        written = backup_to(store, target)
    click.echo(f"backed up to {written} (integrity ok)")
