"""The `llmbench demo` command: build the demo database and open the TUI on it."""

from __future__ import annotations

import sys

import click

from llmbench import paths
from llmbench.cli.common import (
    cli_settings,
    db_option,
    open_tui,
)


@click.command()
@db_option
@click.option("--no-tui", is_flag=True, help="Build the database and exit.")
@click.option(
    "--calls",
    type=click.IntRange(0, 5_000_000),
    default=20_000,
    show_default=True,
    help="How many audit-log calls to generate.",
)
@click.option(
    "--seed", type=int, default=7, show_default=True, help="Random seed (same seed, same data)."
)
@click.option("--rebuild", is_flag=True, help="Replace an existing demo database.")
@click.pass_context
def demo(
    ctx: click.Context, db: str | None, no_tui: bool, calls: int, seed: int, rebuild: bool
) -> None:
    """Build a realistic demo database (offline models, no API key) and open it."""
    from llmbench.demo.build import build_demo

    explicit = db or ctx.find_root().params.get("db")
    path = paths.resolve_db_path(explicit) if explicit else paths.demo_db_path()
    settings = cli_settings()
    if rebuild or not path.exists():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=True,
            disable=not sys.stderr.isatty(),
        ) as progress:
            task = progress.add_task("Building demo", total=calls)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            summary = build_demo(path, seed=seed, calls=calls, progress=advance, replace=rebuild)
        click.echo(f"Demo database: {path}")
        click.echo(summary.describe())
    else:
        from llmbench.services.database import open_store

        # Whatever is at the path must be an llmbench database before it is called one: a
        # mistyped --db naming a notes file is refused (exit 1), never opened or converted.
        open_store(path, create=False).close()
        click.echo(f"Opening the existing demo database {path} (--rebuild makes a new one)")
    if not no_tui:
        open_tui(path, settings, create=False)
