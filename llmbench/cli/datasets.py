"""`llmbench datasets`: test-case datasets listed, shown, imported and exported as files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from llmbench.cli.common import BadInput, db_option, resolve_db

if TYPE_CHECKING:
    from llmbench.core.models import Case

SUMMARY_WIDTH = 60


@click.group()
def datasets() -> None:
    """Test-case datasets: variables, a golden answer, tags and checks per case.

    Files are CSV (promptfoo's __expected, __description and __metadata:NAME columns read)
    or JSON lines ({"vars": ..., "expected": ..., "tags": ..., "checks": [...]}).
    """


@datasets.command("list")
@db_option
@click.pass_context
def datasets_list(ctx: click.Context, db: str | None) -> None:
    """Every dataset with its number of cases."""
    from llmbench.services import datasets as service
    from llmbench.services.database import open_store

    with open_store(resolve_db(ctx, db), create=False) as store:
        rows = service.list_datasets(store)
    if not rows:
        click.echo("no datasets yet: `llmbench datasets import FILE.csv` makes one")
    for row in rows:
        noun = "case" if row.cases == 1 else "cases"
        click.echo(f"{row.name:<32} {row.cases:>6} {noun:<5}  {row.description}".rstrip())


@datasets.command("show")
@click.argument("name")
@db_option
@click.pass_context
def datasets_show(ctx: click.Context, name: str, db: str | None) -> None:
    """The cases of dataset NAME: id, variables, golden answer, tags and number of checks."""
    from llmbench.services import datasets as service
    from llmbench.services.database import open_store

    with open_store(resolve_db(ctx, db), create=False) as store:
        try:
            dataset = service.find_dataset(store, name)
        except service.DatasetError as error:
            raise BadInput(str(error)) from None
        cases = service.dataset_cases(store, dataset.id)
    click.echo(f"{dataset.name}: {dataset.cases} cases  {dataset.description}".rstrip())
    for case in cases:
        click.echo(case_line(case))


def case_line(case: Case) -> str:
    from llmbench.services.datasets import vars_summary

    parts = [f"#{case.id:<5}", _short(vars_summary(case.vars) or "(no variables)")]
    if case.expected is not None:
        parts.append(f"→ {_short(case.expected, 30)}")
    if case.tags:
        parts.append("[" + ", ".join(f"{k}={v}" for k, v in case.tags.items()) + "]")
    if case.checks:
        parts.append(f"{len(case.checks)} check{'s' if len(case.checks) != 1 else ''}")
    return "  ".join(parts)


def _short(text: str, width: int = SUMMARY_WIDTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@datasets.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", help="The dataset to add the cases to (default: the file's name).")
@db_option
@click.pass_context
def datasets_import(ctx: click.Context, file: Path, name: str | None, db: str | None) -> None:
    """Add the cases of FILE (.csv or .jsonl) to a dataset, created if new.

    All or nothing: a bad row refuses the whole file (every problem printed as file:line,
    exit 2) and nothing is written. Cases the dataset already holds are skipped.
    """
    from llmbench.services import datasets as service
    from llmbench.services.database import open_for_command

    with open_for_command(resolve_db(ctx, db)) as store:
        try:
            outcome = service.import_dataset(store, file, name)
        except service.DatasetFileError as error:
            for problem in error.problems:
                click.echo(str(problem), err=True)
            count = len(error.problems)
            raise BadInput(
                f"import refused ({count} problem{'s' if count != 1 else ''}); nothing was written"
            ) from None
        except service.DatasetError as error:
            raise BadInput(str(error)) from None
    verb = "created" if outcome.created else "added to"
    skipped = f", {outcome.skipped} already there" if outcome.skipped else ""
    click.echo(f"{verb} {outcome.dataset}: {outcome.added} of {outcome.read} cases added{skipped}")


@datasets.command("export")
@click.argument("name")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write: .csv (promptfoo's columns) or .jsonl.",
)
@db_option
@click.pass_context
def datasets_export(ctx: click.Context, name: str, output: Path, db: str | None) -> None:
    """Write dataset NAME to a file that `llmbench datasets import` reads back exactly.

    A new file is private (0600) and put in place whole; a FIFO or device is written
    through and a symbolic link followed, never replaced.
    """
    from llmbench.services import datasets as service
    from llmbench.services.database import open_store

    with open_store(resolve_db(ctx, db), create=False) as store:
        try:
            written = service.export_dataset(store, name, output)
        except service.DatasetError as error:  # no dataset of that name
            raise BadInput(str(error)) from None
        except service.ExportRefused as error:
            raise click.ClickException(str(error)) from None
        except ValueError as error:  # the file's suffix names no format
            raise click.UsageError(str(error)) from None
        except OSError as error:
            raise click.ClickException(f"cannot write {output}: {error.strerror}") from None
    click.echo(f"{written} case{'s' if written != 1 else ''} of {name} written to {output}")
