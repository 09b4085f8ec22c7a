"""`llmbench prompts`: prompts as files you can keep in git."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from llmbench.cli.common import (
    BadInput,
    cli_settings,
    db_option,
    resolve_db,
)

if TYPE_CHECKING:
    from llmbench.services.prompts.files import FileOutcome


@click.group()
def prompts() -> None:
    """Prompts as YAML files (one per prompt) for review and history in git."""


@prompts.command("list")
@db_option
@click.pass_context
def prompts_list(ctx: click.Context, db: str | None) -> None:
    """Every prompt with its version count and where production and staging point."""
    from llmbench.services.database import open_store
    from llmbench.services.prompts.files import list_prompts

    with open_store(resolve_db(ctx, db), create=False) as store:
        rows = list_prompts(store)
    for row in rows:
        production = f"v{row.production}" if row.production else "-"
        staging = f"v{row.staging}" if row.staging else "-"
        click.echo(
            f"{row.name:<32} {row.versions:>3} versions  production {production:<5} "
            f"staging {staging:<5} {row.description}".rstrip()
        )


@prompts.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.argument("names", nargs=-1)
@db_option
@click.pass_context
def prompts_export(
    ctx: click.Context, folder: Path, names: tuple[str, ...], db: str | None
) -> None:
    """Write FOLDER/<name>.yaml for every prompt (or the NAMES given): versions, labels, notes."""
    from llmbench.services.database import open_store
    from llmbench.services.prompts.files import ExportError, export_prompts

    with open_store(resolve_db(ctx, db), create=False) as store:
        try:
            written = export_prompts(store, folder, names)
        except ExportError as error:
            raise click.ClickException(str(error)) from None
        except OSError as error:
            raise click.ClickException(f"cannot write to {folder}: {error.strerror}") from None
    click.echo(f"exported {len(written)} prompt{'s' if len(written) != 1 else ''} to {folder}")


@prompts.command("import")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--author", help="Name recorded on label moves (default: the configured reviewer).")
@db_option
@click.pass_context
def prompts_import(ctx: click.Context, source: Path, author: str | None, db: str | None) -> None:
    """Read prompt files (ours, or simonw/llm YAML templates) from SOURCE, a folder or one file.

    All or nothing: one invalid file, or a saved version that a file changes, and nothing is
    written. Identical versions are skipped, new ones appended, labels moved (and audited).
    """
    from llmbench.services.database import open_for_command
    from llmbench.services.prompts.files import PromptFileError, import_prompts

    who = author or cli_settings().general.reviewer
    with open_for_command(resolve_db(ctx, db)) as store:
        try:
            report = import_prompts(store, source, author=who)
        except PromptFileError as error:
            for problem in error.problems:
                click.echo(str(problem), err=True)
            count = len(error.problems)
            raise BadInput(
                f"import refused ({count} problem{'s' if count != 1 else ''}); nothing was written"
            ) from None
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    for outcome in report.files:
        click.echo(_describe_import(outcome))
    changed = sum(outcome.changed for outcome in report.files)
    click.echo(f"{len(report.files)} files read, {changed} changed the database")


def _describe_import(outcome: FileOutcome) -> str:
    parts = []
    if outcome.appended:
        parts.append(f"added {_numbers(outcome.appended)}")
    if outcome.skipped:
        parts.append(f"skipped {_numbers(outcome.skipped)} (already saved)")
    for label, before, after in outcome.label_moves:
        parts.append(f"{label} {'v' + str(before) if before else 'new'} → v{after}")
    if outcome.notes_added:
        parts.append(f"{outcome.notes_added} note{'s' if outcome.notes_added != 1 else ''} added")
    verb = "created" if outcome.created else ("updated" if outcome.changed else "unchanged")
    return f"{verb} {outcome.name}: {', '.join(parts) or 'no versions'}"


def _numbers(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return f"v{numbers[0]}"
    if numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"v{numbers[0]}–v{numbers[-1]}"
    return ", ".join(f"v{number}" for number in numbers)


# The guard subcommand lives in its own module; registered here so `llmbench prompts guard`
# loads with the group.
from llmbench.cli.prompt_guard import prompts_guard  # noqa: E402

prompts.add_command(prompts_guard)
