"""The `llmbench` command. With no subcommand it opens the TUI.

Heavy modules (Textual screens, litellm, the demo builder) are imported inside commands so that
`llmbench --help` and the TUI's first frame stay fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from llmbench import __version__, paths
from llmbench.config import ConfigError, Settings, load_settings, render_settings

if TYPE_CHECKING:
    from llmbench.services.prompt_files import FileOutcome

USAGE_EXIT = 2
FAILURE_EXIT = 1


def _fail(message: str, code: int = FAILURE_EXIT) -> NoReturn:
    click.echo(f"llmbench: {message}", err=True)
    sys.exit(code)


class LLMBenchGroup(click.Group):
    """A click group whose errors are one line and whose usage errors exit with 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        from llmbench.store.db import StoreError

        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except click.UsageError as error:
            hint = (
                f"see '{error.ctx.command_path} --help'" if error.ctx else "see 'llmbench --help'"
            )
            _fail(f"{error.format_message()} ({hint})", USAGE_EXIT)
        except click.Abort:
            _fail("aborted", 130)
        except click.ClickException as error:
            _fail(error.format_message(), error.exit_code or FAILURE_EXIT)
        except (ConfigError, StoreError) as error:
            _fail(str(error))
        sys.exit(result if isinstance(result, int) else 0)


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def _db_path(ctx: click.Context, explicit: str | None) -> Path:
    """--db on the subcommand, else on the group, else LLMBENCH_DB, else config, else XDG."""
    chosen = explicit or (ctx.find_root().params.get("db") if ctx.find_root() else None)
    if chosen:
        return paths.resolve_db_path(chosen)
    settings_db = _settings().general.db
    return paths.resolve_db_path(settings_db or None)


def _open_tui(db_path: Path, settings: Settings, *, create: bool) -> None:
    from llmbench.services.database import open_store
    from llmbench.tui.app import LLMBenchApp

    store = open_store(db_path, create=create)
    try:
        LLMBenchApp(store, settings).run()
    finally:
        store.close()


db_option = click.option(
    "--db",
    "db",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Database file (default: LLMBENCH_DB, then the XDG data dir).",
)


@click.group(
    cls=LLMBenchGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, "-V", "--version", prog_name="llmbench")
@db_option
@click.pass_context
def cli(ctx: click.Context, db: str | None) -> None:
    """A keyboard-driven workbench for LLM prompts: version, compare, grade, cost, audit.

    Run with no command to open the TUI on your database.
    """
    if ctx.invoked_subcommand is None:
        _open_tui(_db_path(ctx, db), _settings(), create=True)


@cli.command()
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
    from llmbench.services.demo import build_demo

    explicit = db or ctx.find_root().params.get("db")
    path = paths.resolve_db_path(explicit) if explicit else paths.demo_db_path()
    settings = _settings()
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
        click.echo(f"Opening the existing demo database {path} (--rebuild makes a new one)")
    if not no_tui:
        _open_tui(path, settings, create=False)


@cli.group()
def config() -> None:
    """Where the settings file is and what it holds."""


@config.command("path")
def config_path() -> None:
    """Print the settings file's path."""
    click.echo(str(paths.config_path()))


@config.command("show")
def config_show() -> None:
    """Print the effective settings, with a comment on each."""
    click.echo(render_settings(_settings()), nl=False)


@cli.group()
def db() -> None:
    """The database file: where it is, what it holds, whether it is sound."""


@db.command("path")
@db_option
@click.pass_context
def db_path(ctx: click.Context, db: str | None) -> None:
    """Print the database path in use."""
    click.echo(str(_db_path(ctx, db)))


@db.command("info")
@db_option
@click.pass_context
def db_info(ctx: click.Context, db: str | None) -> None:
    """Schema version, pragmas, row counts and size."""
    from llmbench.services.database import describe, open_store

    path = _db_path(ctx, db)
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

    with open_store(_db_path(ctx, db), create=False) as store:
        report = verify_file(store)
    if report.ok:
        click.echo("ok")
        return
    for line in report.integrity:
        click.echo(f"integrity: {line}")
    for problem in report.foreign_key_problems:
        click.echo(f"foreign key: {problem}")
    sys.exit(FAILURE_EXIT)


@cli.group()
def audit() -> None:
    """The audit log's integrity: verify the hash chain, print a checkpoint."""


@audit.command("verify")
@db_option
@click.option("--checkpoint", help="A head printed earlier by `audit checkpoint` (ID:HASH).")
@click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The chain key, when it is not in this machine's keyring or key folder.",
)
@click.pass_context
def audit_verify(
    ctx: click.Context, db: str | None, checkpoint: str | None, key_file: Path | None
) -> None:
    """Prove no call was edited, removed or reordered; exit 1 naming the first bad row."""
    from llmbench.gateway.chain_key import ChainKeyMissing
    from llmbench.services.audit import BadCheckpoint, verify
    from llmbench.services.database import open_store

    with open_store(_db_path(ctx, db), create=False) as store:
        try:
            report = verify(store, key_file=key_file, checkpoint=checkpoint)
        except BadCheckpoint as error:
            raise click.UsageError(str(error)) from None
        except ChainKeyMissing as error:
            raise click.ClickException(str(error)) from None
    if report.problem is not None:
        click.echo(
            f"FAILED at call {report.problem.call_id}: {report.problem.reason} "
            f"({report.checked:,} calls before it verified)"
        )
        sys.exit(FAILURE_EXIT)
    purged = f", {report.purged_bodies:,} with purged bodies" if report.purged_bodies else ""
    head = f"; head {report.head_id}:{report.head_hash}" if report.head_id else ""
    click.echo(f"ok: {report.checked:,} calls verified{purged}{head}")


@audit.command("checkpoint")
@db_option
@click.pass_context
def audit_checkpoint(ctx: click.Context, db: str | None) -> None:
    """Print the chain's head (ID:HASH) to keep elsewhere; verify --checkpoint uses it."""
    from llmbench.services.audit import checkpoint
    from llmbench.services.database import open_store

    with open_store(_db_path(ctx, db), create=False) as store:
        click.echo(checkpoint(store))


@cli.group()
def prices() -> None:
    """Model prices (USD per million tokens) that override litellm's table, dated."""


@prices.command("set")
@click.argument("model")
@click.option("--input", "input_price", type=float, required=True, help="USD per 1M input tokens.")
@click.option("--output", "output_price", type=float, required=True, help="USD per 1M output.")
@click.option(
    "--cached", "cached_price", type=float, help="USD per 1M cached input (default: input)."
)
@click.option(
    "--from", "from_date", help="First day the price applies (YYYY-MM-DD, default today)."
)
@db_option
@click.pass_context
def prices_set(
    ctx: click.Context,
    model: str,
    input_price: float,
    output_price: float,
    cached_price: float | None,
    from_date: str | None,
    db: str | None,
) -> None:
    """Set MODEL's price from a day on; earlier calls keep the price they were charged."""
    from llmbench.core.models import Price
    from llmbench.services.database import open_store
    from llmbench.services.prices import set_price

    price = Price(input_price, output_price, input_price if cached_price is None else cached_price)
    with open_store(_db_path(ctx, db)) as store:
        try:
            entry = set_price(store, model, price, from_date)
        except ValueError as error:
            raise click.UsageError(str(error)) from None
    click.echo(
        f"{model}: ${price.input:g} in / ${price.output:g} out / ${price.cached:g} cached "
        f"per 1M tokens from {entry.from_date}"
    )


@prices.command("list")
@db_option
@click.pass_context
def prices_list(ctx: click.Context, db: str | None) -> None:
    """Prices in the database, and models whose calls are still unpriced."""
    from llmbench.services.database import open_store
    from llmbench.services.prices import listing

    with open_store(_db_path(ctx, db), create=False) as store:
        rows, unpriced = listing(store)
    for row in rows:
        click.echo(
            f"{row['model']:<32} from {row['from_date']}  in {row['input']:g}  "
            f"out {row['output']:g}  cached {row['cached']:g}  ({row['source']})"
        )
    for row in unpriced:
        click.echo(
            f"UNPRICED {row['model']:<23} {row['calls']:,} calls, {row['prompt_tokens']:,} in / "
            f"{row['completion_tokens']:,} out tokens — llmbench prices set {row['model']} ..."
        )


@cli.group()
def keys() -> None:
    """API keys: the provider's environment variable first, then the OS keyring."""


@keys.command("list")
def keys_list() -> None:
    """Which providers have a key and where it comes from (never the key itself)."""
    from llmbench.gateway.keys import keyring_status, list_keys

    status = keyring_status()
    click.echo(f"keyring: {status.message}")
    for entry in list_keys():
        where = entry.source or "-"
        click.echo(f"{entry.provider:<12} {where:<8} {entry.detail}")


@keys.command("set")
@click.argument("provider")
@click.option("--value", help="The key (default: read it from a hidden prompt or stdin).")
def keys_set(provider: str, value: str | None) -> None:
    """Store PROVIDER's key in the OS keyring."""
    from llmbench.gateway.keys import KeyStoreError, set_key

    if value is None:
        if sys.stdin.isatty():
            value = click.prompt(f"{provider} API key", hide_input=True)
        else:
            value = sys.stdin.readline().strip()
    try:
        status = set_key(provider, value or "")
    except (KeyStoreError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    if status.plaintext:
        click.echo(f"warning: {status.message}", err=True)
    click.echo(f"stored the {provider} key in {status.backend_name}")


@keys.command("delete")
@click.argument("provider")
def keys_delete(provider: str) -> None:
    """Remove PROVIDER's key from the OS keyring."""
    from llmbench.gateway.keys import KeyStoreError, delete_key

    try:
        removed = delete_key(provider)
    except KeyStoreError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"deleted the {provider} key" if removed else f"no {provider} key in the keyring")


@cli.group()
def prompts() -> None:
    """Prompts as YAML files (one per prompt) for review and history in git."""


@prompts.command("list")
@db_option
@click.pass_context
def prompts_list(ctx: click.Context, db: str | None) -> None:
    """Every prompt with its version count and where production and staging point."""
    from llmbench.services.database import open_store
    from llmbench.services.prompt_files import list_prompts

    with open_store(_db_path(ctx, db), create=False) as store:
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
    from llmbench.services.prompt_files import ExportError, export_prompts

    with open_store(_db_path(ctx, db), create=False) as store:
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
    from llmbench.services.database import open_store
    from llmbench.services.prompt_files import PromptFileError, import_prompts

    who = author or _settings().general.reviewer
    with open_store(_db_path(ctx, db)) as store:
        try:
            report = import_prompts(store, source, author=who)
        except PromptFileError as error:
            for problem in error.problems:
                click.echo(str(problem), err=True)
            count = len(error.problems)
            raise click.ClickException(
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


def main() -> None:
    cli(prog_name="llmbench")
