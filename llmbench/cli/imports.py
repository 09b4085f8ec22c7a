"""`llmbench import`: other tools' logs into the audit log, all or nothing."""

from __future__ import annotations

from pathlib import Path

import click

from llmbench.cli.common import (
    BadInput,
    db_option,
    resolve_db,
)

# The first bytes of every SQLite database file (https://sqlite.org/fileformat.html).
SQLITE_MAGIC = b"SQLite format 3\x00"


@click.group("import")
def import_group() -> None:
    """Bring other tools' logged calls into the audit log, to audit their spend offline.

    All or nothing: a file with a bad row is refused whole (each problem with its line) and
    nothing is written. Importing the same file again adds nothing. `promptfoo` converts a
    promptfoo config into an eval suite file instead.
    """


def _run_import(
    ctx: click.Context, kind: str, path: Path, db: str | None, mapping: dict[str, str] | None
) -> None:
    from llmbench.importers.calls.common import CallImportError
    from llmbench.services.database import open_for_command
    from llmbench.services.imports.calls import import_file
    from llmbench.services.imports.reader_process import ImportProcessError

    if kind == "llm-logs":
        _require_sqlite(path)

    def progress(done: int, total: int) -> None:
        if total:
            click.echo(f"\r{done:,} / {total:,}", nl=False, err=True)

    # A refused import into a database that did not exist leaves no database behind.
    with open_for_command(resolve_db(ctx, db)) as store:
        try:
            outcome = import_file(store, kind, path, mapping, progress=progress)
        except CallImportError as error:
            click.echo("", err=True)
            raise BadInput(f"import refused, nothing was written — {error}") from None
        except ImportProcessError as error:
            click.echo("", err=True)
            raise click.ClickException(str(error)) from None
    click.echo("", err=True)
    click.echo(
        f"{path.name}: {outcome.read:,} calls read, {outcome.added:,} added, "
        f"{outcome.skipped:,} already in the log"
        + (f", {outcome.unpriced:,} unpriced (llmbench prices set)" if outcome.unpriced else "")
    )


def _require_sqlite(path: Path) -> None:
    """simonw/llm's logs.db is a SQLite file: anything else is refused by name (exit 2) before
    the importer reads it, rather than reported as a bad row."""
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_MAGIC))
    except OSError as error:
        raise BadInput(f"cannot read {path}: {error.strerror or error}") from None
    if header != SQLITE_MAGIC:
        shown = "an empty file" if not header else "not a SQLite database"
        raise BadInput(
            f"{path} is {shown}, so not simonw/llm's logs.db (`llm logs path` prints where "
            "that is); nothing was written"
        )


def _file_import(kind: str, help_text: str) -> click.Command:
    """An import of one file of `kind`, with no options beyond --db."""

    @import_group.command(kind, help=help_text)
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @db_option
    @click.pass_context
    def command(ctx: click.Context, path: Path, db: str | None) -> None:
        _run_import(ctx, kind, path, db, None)

    return command


import_llm_logs = _file_import(
    "llm-logs",
    "simonw/llm's logs.db (`llm logs path`) of any release: its `turns` layout (llm 0.32 on),"
    " its older `responses` layout, or both in a file a newer llm migrated. Each call keeps its"
    " whole message list, its conversation (`conversation_id`; the tag `conversation_name`),"
    " its tool calls, fragments and attachments; token counts llm did not record are estimated and"
    " flagged. Importing the file again adds only the calls llm logged since.",
)


@import_group.command("jsonl")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "maps", multiple=True, help="FIELD=PATH, e.g. ts=startTime (repeatable).")
@db_option
@click.pass_context
def import_jsonl(ctx: click.Context, path: Path, maps: tuple[str, ...], db: str | None) -> None:
    """JSON lines: OpenAI-style request/response pairs, batch output, litellm spend logs."""
    from llmbench.importers.calls.jsonl import parse_map

    try:
        mapping = parse_map(maps)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    _run_import(ctx, "jsonl", path, db, mapping)


import_usage_csv = _file_import(
    "usage-csv", "An OpenAI usage export (CSV): one call row per bucket, its request count in tags."
)


import_otlp = _file_import(
    "otlp",
    "The OpenTelemetry Collector's file exporter output (JSON lines of OTLP trace export"
    " requests): its GenAI model-call spans (OTel GenAI conventions, OpenLLMetry, OpenInference,"
    " litellm's OTel callback) as calls, in their conversations and traces; other spans are"
    " skipped. `llmbench collect` receives the same spans live.",
)


@import_group.command("promptfoo")
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The suite file to write (default: CONFIG's name + .eval.yaml, beside it).",
)
@click.option("--run", "run_it", is_flag=True, help="Run the converted suite, as `llmbench eval`.")
@click.option(
    "--model-map",
    "model_maps",
    multiple=True,
    metavar="FROM=TO",
    help="Run a provider (id or label) on another model, e.g. "
    "openai:gpt-4o-mini=llmbench/mock (repeatable).",
)
@click.option(
    "--fail-under",
    default="100%",
    show_default=True,
    help="With --run: least share of cells that must pass (0.9, 90 or 90%).",
)
@db_option
@click.pass_context
def import_promptfoo(
    ctx: click.Context,
    config: Path,
    output: Path | None,
    run_it: bool,
    model_maps: tuple[str, ...],
    fail_under: str,
    db: str | None,
) -> None:
    """Convert a promptfoo config (promptfooconfig.yaml) into an llmbench eval suite.

    Prompts, providers, tests (inline, CSV, YAML, JSONL), vars, defaultTest and the assertion
    types llmbench checks convert; everything else is listed by name with its line, in the
    output and as comments in the suite. An API key in the config is refused. Exit codes as
    `llmbench eval`: 0 converted (and passed), 1 checks failed, 2 bad input.
    """
    from llmbench.cli.common import USAGE_EXIT, fail
    from llmbench.importers.eval_suite_docs import SuiteError
    from llmbench.importers.promptfoo.config import PromptfooError, convert_file, parse_model_map
    from llmbench.importers.promptfoo.suite_writing import (
        check_suite_text,
        default_output,
        is_converted_suite,
        suite_text,
    )

    try:
        model_map = parse_model_map(model_maps)
    except ValueError as error:
        fail(str(error), USAGE_EXIT)
    target = output or default_output(config)
    if target.exists() and not is_converted_suite(target):
        fail(f"{target} exists and was not written by this importer: give another -o", USAGE_EXIT)
    try:
        conversion = convert_file(config, model_map)
    except PromptfooError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        fail(f"{config} was not converted; nothing was written", USAGE_EXIT)
    if run_it and not conversion.checks():
        # Every cell would pass: a verdict that says nothing is refused, as bad input.
        fail(
            f"{config} has no assertions: --run has nothing to check; nothing was written",
            USAGE_EXIT,
        )
    text = suite_text(conversion, target)
    try:
        check_suite_text(text, target)  # read back as `llmbench eval` will, before writing
    except SuiteError as error:
        for problem in error.problems:
            click.echo(f"the converted suite would not run: {problem}", err=True)
        fail(f"{config} was not converted; nothing was written", USAGE_EXIT)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {target}: {error.strerror}", USAGE_EXIT)
    for item in conversion.omitted:
        click.echo(f"not converted: {item}", err=True)
    for item in conversion.notes:
        click.echo(f"approximated: {item}", err=True)
    click.echo(f"{config} -> {target}: {conversion.summary()}", err=True)
    if run_it:
        from llmbench.cli.evaluate import eval_command

        ctx.invoke(
            eval_command,
            suite=target,
            baseline=None,
            fail_under=fail_under,
            output=None,
            concurrency=None,
            resume_run=None,
            db=db,
        )
