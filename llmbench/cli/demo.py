"""The `llmbench demo` command: build the demo database and open the TUI on it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from llmbench import paths
from llmbench.cli.common import (
    cli_settings,
    db_option,
    fail,
    open_tui,
)
from llmbench.config import Settings


@click.command()
@db_option
@click.option("--no-tui", is_flag=True, help="Build the database and exit.")
@click.option(
    "--calls",
    type=click.IntRange(0, 10_000_000),
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
    explicit = db or ctx.find_root().params.get("db")
    path = paths.resolve_db_path(explicit) if explicit else paths.demo_db_path()
    settings = cli_settings()
    if rebuild or not path.exists():
        if no_tui:
            _build_here(path, calls, seed, rebuild)
            return
        # The TUI opens at once and builds the demo behind its progress (`_build_in_tui`).
        _build_in_tui(path, settings, calls, seed, rebuild)
        return
    from llmbench.services.database import open_store

    # Whatever is at the path must be an llmbench database before it is called one: a
    # mistyped --db naming a notes file is refused (exit 1), never opened or converted.
    open_store(path, create=False).close()
    click.echo(f"Opening the existing demo database {path} (--rebuild makes a new one)")
    if not no_tui:
        open_tui(path, settings, create=False)


def _build_here(path: Path, calls: int, seed: int, rebuild: bool) -> None:
    """--no-tui: build with a progress bar on stderr, say what was built."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from llmbench.demo.build import build_demo

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


def _build_in_tui(path: Path, settings: Settings, calls: int, seed: int, rebuild: bool) -> None:
    """Open the TUI on the build's progress; it shows the panes once the demo is built. The
    demo package loads in the build's worker thread, after the first frame."""
    from llmbench.tui.app import LLMBenchApp
    from llmbench.tui.screens.demo_build import BuildStopped, DemoBuild, Progress

    built: list[str] = []
    problems: list[str] = []

    def build(progress: Progress) -> str:
        from llmbench.demo.build import build_demo

        try:
            summary = build_demo(path, seed=seed, calls=calls, progress=progress, replace=rebuild)
        except BuildStopped:
            raise
        except Exception as error:
            problems.append(str(error) or type(error).__name__)
            raise
        built.append(summary.describe())
        return f"{path}\n{built[0]}"

    app = LLMBenchApp(None, settings, demo_build=DemoBuild(path, calls, build))
    try:
        app.run()
    finally:
        if not app.building:
            app.store.close()
    if problems:
        fail(f"the demo could not be built: {problems[0]}")
    if not built:
        kept = "the demo there was not replaced" if path.exists() else "nothing was kept"
        fail(f"stopped before the demo was built: {kept} ({path})")
    click.echo(f"Demo database: {path}")
    click.echo(built[0])
