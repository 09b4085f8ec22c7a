"""`llmbench grades`: rubric files and grade exports."""

from __future__ import annotations

from pathlib import Path

import click

from llmbench.cli.common import (
    BadInput,
    db_option,
    resolve_db,
)

# The formats a grades export writes, by the file name's extension.
EXPORT_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl"}


def export_format(out: Path, fmt: str | None) -> str:
    """The format OUT's extension names (.csv or .jsonl); --format for any other name. A name
    that says one format while --format says another, or that names no format when --format
    is not given, is refused (BadInput): g.xml must never quietly hold CSV."""
    by_name = EXPORT_SUFFIXES.get(out.suffix.lower())
    if fmt is not None and by_name is not None and fmt != by_name:
        raise BadInput(f"{out} ends in {out.suffix} but --format is {fmt}: make them agree")
    chosen = fmt or by_name
    if chosen is None:
        raise BadInput(
            f"{out}: name a .csv or .jsonl file, or pass --format csv|jsonl for another name"
        )
    return chosen


@click.group()
def grades() -> None:
    """Rubrics and the grades reviewers gave (F4 in the TUI)."""


@grades.command("export")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default=None,
    help="Default: OUT's extension (.csv or .jsonl); needed for any other name.",
)  # fmt: skip
@click.option("--rubric", help="Only this rubric's grades.")
@db_option
@click.pass_context
def grades_export(
    ctx: click.Context, out: Path, fmt: str | None, rubric: str | None, db: str | None
) -> None:
    """Write every grade (regrades included) to OUT as CSV or JSONL.

    A new file is private (0600) and put in place whole; a FIFO or device is written
    through and a symbolic link followed, never replaced.
    """
    from llmbench.services.database import open_store
    from llmbench.services.grading.export import export_grades

    chosen = export_format(out, fmt)
    with open_store(resolve_db(ctx, db), create=False) as store:
        try:
            written = export_grades(store, out, fmt=chosen, rubric=rubric)
        except LookupError as error:  # no rubric of that name
            raise BadInput(str(error.args[0])) from None
        except OSError as error:
            raise click.ClickException(f"cannot write {out}: {error.strerror}") from None
    click.echo(f"{written} grades written to {out} ({chosen})")


@grades.command("rubric")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Update the rubric of that name if it exists.")
@db_option
@click.pass_context
def grades_rubric(ctx: click.Context, path: Path, replace: bool, db: str | None) -> None:
    """Add (or with --replace update) a rubric from a TOML or YAML file."""
    from llmbench.core.grading.rubrics import RubricError
    from llmbench.services.database import open_for_command
    from llmbench.services.grading.rubrics import import_rubric

    with open_for_command(resolve_db(ctx, db)) as store:
        try:
            rubric_id = import_rubric(store, path, replace=replace)
        except (RubricError, ValueError) as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"rubric #{rubric_id} saved from {path.name}")
