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
    from llmbench.core.routing import Route
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
@click.option("--reviewer", help="Grade as this reviewer (default: [general] reviewer).")
@click.pass_context
def cli(ctx: click.Context, db: str | None, reviewer: str | None) -> None:
    """A keyboard-driven workbench for LLM prompts: version, compare, grade, cost, audit.

    Run with no command to open the TUI on your database.
    """
    if ctx.invoked_subcommand is None:
        settings = _settings()
        if reviewer:
            from dataclasses import replace

            settings = replace(settings, general=replace(settings.general, reviewer=reviewer))
        _open_tui(_db_path(ctx, db), settings, create=True)


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
    """The audit log's integrity and retention: verify, checkpoint, purge."""


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


@audit.command("purge")
@db_option
@click.option("--dry-run", is_flag=True, help="Print what would be purged; change nothing.")
@click.option("--vacuum", is_flag=True, help="Afterwards rebuild the file to return the space.")
@click.option(
    "--delete-after",
    type=click.IntRange(0),
    help="Delete calls older than this many days (default: [retention] in the config).",
)
@click.option(
    "--redact-after",
    type=click.IntRange(0),
    help="Purge bodies, keep metrics, of calls older than this many days (default: config).",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The chain key, when it is not in this machine's keyring or key folder.",
)
@click.pass_context
def audit_purge(
    ctx: click.Context,
    db: str | None,
    dry_run: bool,
    vacuum: bool,
    delete_after: int | None,
    redact_after: int | None,
    yes: bool,
    key_file: Path | None,
) -> None:
    """Apply the retention policy: delete old calls, or purge their bodies and keep metrics.

    The hash chain still verifies afterwards, and the purge is recorded as an alert (who, what,
    when) that `llmbench monitor alerts` and the Monitor pane list.
    """
    from llmbench.gateway.chain_key import ChainKeyMissing
    from llmbench.services.database import open_store
    from llmbench.services.retention import (
        NoRetentionPolicy,
        RetentionPolicy,
        describe_plan,
        preview,
        run_purge,
    )

    settings = _settings()
    configured = settings.retention
    policy = RetentionPolicy(
        configured.delete_after_days if delete_after is None else delete_after,
        configured.redact_after_days if redact_after is None else redact_after,
    )
    with open_store(_db_path(ctx, db), create=False) as store:
        try:
            plan = preview(store, policy)
        except NoRetentionPolicy as error:
            raise click.UsageError(f"{error}, or pass --delete-after / --redact-after") from None
        click.echo(f"policy: {policy.describe()}")
        if dry_run:
            click.echo(f"dry run: would {describe_plan(plan, done=False)}")
            return
        if not plan.to_delete and not plan.to_redact:
            click.echo(describe_plan(plan, done=False))
            return
        if not yes:
            click.confirm(f"{describe_plan(plan, done=False)}. Go ahead?", abort=True)
        try:
            outcome = run_purge(
                store, policy, who=settings.general.reviewer, vacuum=vacuum, key_file=key_file
            )
        except ChainKeyMissing as error:
            raise click.ClickException(str(error)) from None
    click.echo(describe_plan(outcome.plan, done=True))
    if outcome.alert_id is not None:
        click.echo(f"recorded as alert #{outcome.alert_id} (by {settings.general.reviewer})")
    if outcome.vacuumed:
        click.echo(
            f"vacuumed: {outcome.bytes_before / 1_048_576:.1f} MiB → "
            f"{outcome.bytes_after / 1_048_576:.1f} MiB"
        )
    click.echo(f"file mode: {outcome.file_mode:04o}")


@cli.group()
def monitor() -> None:
    """Operational health: drift detection over latency and quality, and the alerts it raises."""


@monitor.command("check")
@db_option
@click.option(
    "--days", type=click.IntRange(8, 365), default=30, show_default=True, help="History judged."
)
@click.pass_context
def monitor_check(ctx: click.Context, db: str | None, days: int) -> None:
    """Look for drift in every latency and quality series; raise an alert for each new one.

    Exit 0 either way; the alerts name the series, baseline, current level, change and onset.
    """
    from llmbench.services.database import open_store
    from llmbench.services.monitor import check_drift, list_alerts

    with open_store(_db_path(ctx, db), create=False) as store:
        result = check_drift(store, days=days)
        alerts = {alert.id: alert for alert in list_alerts(store)}
    click.echo(
        f"{result.series} series checked over {days} days: {len(result.found)} drifting, "
        f"{len(result.new_alert_ids)} new alert{'s' if len(result.new_alert_ids) != 1 else ''}"
    )
    for alert_id in result.new_alert_ids:
        alert = alerts[alert_id]
        click.echo(f"#{alert.id} {alert.severity}: {alert.message}")
        click.echo(f"    next: {alert.context.get('suggestion', '')}")
    if result.already_known:
        click.echo(f"{result.already_known} already raised before (see llmbench monitor alerts)")


@monitor.command("sample")
@click.option("--prompt", "prompt_name", required=True, help="The prompt whose calls to check.")
@click.option(
    "--suite",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The evaluation suite (YAML) whose suite-level checks to run.",
)
@click.option(
    "--rate",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.05,
    show_default=True,
    help="Share of the unchecked calls to check (the same calls every time at one rate).",
)
@click.option(
    "--days", type=click.IntRange(1, 365), default=7, show_default=True, help="How far back."
)
@db_option
@click.pass_context
def monitor_sample(
    ctx: click.Context, prompt_name: str, suite: Path, rate: float, days: int, db: str | None
) -> None:
    """Run a suite's deterministic checks on a sample of PROMPT's production calls.

    The outcomes are stored as checks on the calls, so F7's quality over time and
    `monitor check` see them. Checks needing an expected answer, a test case's variables or
    the judge model are skipped and named.
    """
    from llmbench.importers.eval_suite import SuiteError
    from llmbench.services.database import open_store
    from llmbench.services.quality_sample import SampleError, sample_production

    with open_store(_db_path(ctx, db), create=False) as store:
        try:
            outcome = sample_production(store, prompt_name, suite, rate=rate, days=days)
        except SuiteError as error:
            for problem in error.problems:
                click.echo(str(problem), err=True)
            raise click.ClickException(f"{suite} cannot be used") from None
        except SampleError as error:
            raise click.ClickException(str(error)) from None
    if outcome.skipped:
        click.echo(f"skipped checks: {', '.join(outcome.skipped)}")
    rate_text = f", {outcome.pass_rate * 100:.1f}% passed" if outcome.pass_rate is not None else ""
    click.echo(
        f"{outcome.sampled:,} of {outcome.candidates:,} unchecked calls of {prompt_name} in the "
        f"last {days} days checked ({outcome.checks_written:,} check results){rate_text}"
    )


@monitor.command("alerts")
@db_option
@click.option("--open", "only_open", is_flag=True, help="Only alerts nobody acknowledged.")
@click.pass_context
def monitor_alerts(ctx: click.Context, db: str | None, only_open: bool) -> None:
    """List alerts, open ones first."""
    from llmbench.services.database import open_store
    from llmbench.services.monitor import list_alerts

    with open_store(_db_path(ctx, db), create=False) as store:
        alerts = list_alerts(store)
    for alert in alerts:
        if only_open and not alert.open:
            continue
        state = "open" if alert.open else f"acked by {alert.acked_by} {alert.acked_at[:16]}"
        click.echo(
            f"#{alert.id:<4} {alert.created_at[:16]} {alert.severity:<8} {alert.kind:<9} "
            f"{alert.message} [{state}]"
        )


@monitor.command("ack")
@click.argument("alert_id", type=int)
@db_option
@click.pass_context
def monitor_ack(ctx: click.Context, alert_id: int, db: str | None) -> None:
    """Acknowledge alert ALERT_ID (recorded with the configured reviewer's name)."""
    from llmbench.services.database import open_store
    from llmbench.services.monitor import ack_alert

    who = _settings().general.reviewer
    with open_store(_db_path(ctx, db), create=False) as store:
        if not ack_alert(store, alert_id, who):
            raise click.ClickException(f"no open alert #{alert_id}")
    click.echo(f"acknowledged alert #{alert_id} as {who}")


@cli.group()
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
    redacted when the calls were recorded; no key is ever in an export.
    """
    from llmbench.core.audit_query import QueryError
    from llmbench.services import audit_log
    from llmbench.services.database import open_store

    text = _logs_query(
        query,
        {"model": model, "status": status, "feature": feature, "since": since, "until": until},
    )
    try:
        chosen = audit_log.format_for(Path(path), fmt) if path != "-" else (fmt or "jsonl")
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    with open_store(_db_path(ctx, db), create=False) as store:
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


def _cost_filters(where: tuple[str, ...]) -> dict[str, str | None]:
    from llmbench.services.costs import UNTAGGED
    from llmbench.store.costs import FILTER_COLUMNS

    filters: dict[str, str | None] = {}
    for item in where:
        name, sep, value = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in FILTER_COLUMNS:
            known = ", ".join(FILTER_COLUMNS)
            raise click.UsageError(f"--where {item!r}: use DIMENSION=VALUE with one of {known}")
        filters[name] = None if value in ("", "-", UNTAGGED) else value
    return filters


@cli.command()
@click.option("--by", "by", default="model", show_default=True, help="One or two dimensions.")
@click.option("--since", default="30d", show_default=True, help="A span (30d, 12h) or a date.")
@click.option("--until", help="Up to this date (whole day) or moment; default now.")
@click.option("--where", multiple=True, help="DIMENSION=VALUE kept (repeatable; - for untagged).")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
    show_default=True,
)  # fmt: skip
@click.option("--reprice", is_flag=True, help="Also show every row's cost at today's prices.")
@db_option
@click.pass_context
def costs(
    ctx: click.Context,
    by: str,
    since: str,
    until: str | None,
    where: tuple[str, ...],
    fmt: str,
    reprice: bool,
    db: str | None,
) -> None:
    """Spend by model, provider, prompt, version, feature, team, customer, task_type, user,
    day, week or month — nested two deep with --by feature,model — biggest first."""
    import csv
    import json
    from datetime import UTC, datetime

    from llmbench.services import costs as cost_service
    from llmbench.services.database import open_store

    try:
        dimensions = cost_service.parse_by(by)
        start, stop = cost_service.window(since, until, datetime.now(UTC))
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    filters = _cost_filters(where)
    with open_store(_db_path(ctx, db), create=False) as store:
        prices = cost_service.current_prices(store) if reprice else None
        data = cost_service.breakdown(store, dimensions, start, stop, filters, prices=prices)
        unpriced = cost_service.unpriced_models(store, start, stop)
    if fmt == "json":
        click.echo(json.dumps(cost_service.as_json(data, unpriced), indent=2))
    elif fmt == "csv":
        csv.writer(sys.stdout, lineterminator="\n").writerows(cost_service.csv_rows(data))
    else:
        click.echo(_cost_table(data, unpriced))


@cli.group()
def budgets() -> None:
    """Spending limits per scope and period, with alerts at 50 / 80 / 100 % and on spikes."""


@budgets.command("set")
@click.argument("scope")
@click.option("--period", type=click.Choice(["day", "week", "month"]), default="month",
              show_default=True)  # fmt: skip
@click.option("--limit", "limit_usd", type=float, required=True, help="USD per period.")
@db_option
@click.pass_context
def budgets_set(
    ctx: click.Context, scope: str, period: str, limit_usd: float, db: str | None
) -> None:
    """Set a budget on SCOPE: global, or model=…, feature=…, team=…, customer=…."""
    from llmbench.services import budgets as budget_service
    from llmbench.services.database import open_store

    with open_store(_db_path(ctx, db)) as store:
        try:
            budget_id = budget_service.set_budget(store, scope, period, limit_usd)
        except ValueError as error:
            raise click.UsageError(str(error)) from None
    click.echo(f"budget #{budget_id}: {scope} ${limit_usd:,.2f} per {period}")


@budgets.command("list")
@db_option
@click.pass_context
def budgets_list(ctx: click.Context, db: str | None) -> None:
    """Every budget with what its current period has spent and where it is heading."""
    from datetime import UTC, datetime

    from llmbench.services import budgets as budget_service
    from llmbench.services.database import open_store

    with open_store(_db_path(ctx, db), create=False) as store:
        statuses = budget_service.budget_status(store, datetime.now(UTC))
    if not statuses:
        click.echo("no budgets (add one with `llmbench budgets set global --limit 100`)")
    for status in statuses:
        click.echo(
            f"#{status.budget.id:<3} {status.label:<28} {status.budget.period:<5} "
            f"${status.spent:,.2f} of ${status.budget.limit_usd:,.2f} ({status.used:.0%}), "
            f"heading for ${status.projected:,.2f}"
        )


@budgets.command("delete")
@click.argument("budget_id", type=int)
@db_option
@click.pass_context
def budgets_delete(ctx: click.Context, budget_id: int, db: str | None) -> None:
    """Remove budget BUDGET_ID (its past alerts stay)."""
    from llmbench.services import budgets as budget_service
    from llmbench.services.database import open_store

    with open_store(_db_path(ctx, db), create=False) as store:
        if not budget_service.delete_budget(store, budget_id):
            raise click.ClickException(f"no budget #{budget_id}")
    click.echo(f"deleted budget #{budget_id}")


@budgets.command("check")
@click.option("--days", type=click.IntRange(8, 365), default=30, show_default=True)
@db_option
@click.pass_context
def budgets_check(ctx: click.Context, days: int, db: str | None) -> None:
    """Raise budget alerts and look for spend spikes (hourly and daily, per scope) over the
    last DAYS; print each new alert. Acknowledge with `llmbench monitor ack ID` or in F5."""
    from datetime import UTC, datetime

    from llmbench.services import budgets as budget_service
    from llmbench.services.database import open_store

    with open_store(_db_path(ctx, db), create=False) as store:
        result = budget_service.check_costs(store, datetime.now(UTC), days)
        alerts = {alert.id: alert for alert in budget_service.cost_alerts(store)}
    click.echo(
        f"{result.budgets} budget{'s' if result.budgets != 1 else ''} checked, "
        f"{result.spikes} spike{'s' if result.spikes != 1 else ''} found, "
        f"{len(result.new_alert_ids)} new alert{'s' if len(result.new_alert_ids) != 1 else ''}"
    )
    for alert_id in result.new_alert_ids:
        if alert_id in alerts:
            alert = alerts[alert_id]
            click.echo(f"#{alert.id} {alert.severity}: {alert.message}")


@cli.group("import")
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

    with open_store(_db_path(ctx, db)) as store:
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


def _cost_table(data: Any, unpriced: list[tuple[str, int, int, int]]) -> str:
    from llmbench.services.costs import rows_flat
    from llmbench.tui.format import count, money, percent

    repriced = data.total.repriced is not None
    head = ["  ".join(data.by), "calls", "prompt", "completion", "cached", "cost", "share",
            "per call"] + (["today's prices"] if repriced else [])  # fmt: skip
    lines = [head]

    def cells(label: str, figures: Any, share: float | None) -> list[str]:
        return [label, count(figures.calls), count(figures.prompt_tokens),
                count(figures.completion_tokens), count(figures.cached_tokens),
                money(figures.cost), percent(share), money(figures.cost_per_call)] + (
            [money(figures.repriced)] if repriced else [])  # fmt: skip

    for labels, row in rows_flat(data):
        lines.append(cells("  " * (len(labels) - 1) + labels[-1], row.figures, row.share))
    lines.append(cells("total", data.total, 1.0 if data.total.cost else None))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    ]
    out.insert(1, "-" * len(out[0]))
    out.insert(len(out) - 1, "-" * len(out[0]))
    header = f"{data.since[:16]} → {data.until[:16]} UTC"
    tail = [
        f"unpriced: {model} — {count(calls)} calls, "
        f"{count(p)} prompt / {count(o)} completion tokens"
        for model, calls, p, o in unpriced
    ]
    return "\n".join([header, *out, *tail])


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
def routes() -> None:
    """Canary and tier routes kept in the database, beside the config's [[routes]]."""


@routes.command("list")
@db_option
@click.pass_context
def routes_list(ctx: click.Context, db: str | None) -> None:
    """Every route in the order tried: the database's, then the config's."""
    from llmbench.core.routing import RouteError, merge_routes
    from llmbench.services.database import open_store
    from llmbench.store.routes import load_routes

    configured = _settings().routes
    with open_store(_db_path(ctx, db), create=False) as store:
        try:
            stored = load_routes(store.read())
        except RouteError as error:
            raise click.ClickException(str(error)) from None
    from_db = {route.name for route in stored}
    for route in merge_routes(configured, stored):
        click.echo(_describe_route(route, "database" if route.name in from_db else "config"))
    for route in configured:
        if route.name in from_db:
            click.echo(_describe_route(route, "config") + "  (replaced by the database route)")


def _describe_route(route: Route, source: str) -> str:
    applies = [
        f"{name}={value}"
        for name, value in (("prompt", route.prompt), ("model", route.model))
        if value
    ]
    applies += [f"{tag}={value}" for tag, value in sorted(route.when.items())]
    total = sum(arm.weight for arm in route.arms)
    arms = " | ".join(
        f"{arm.name} {arm.weight / total:.0%} → "
        + ", ".join(filter(None, (arm.model, f"version {arm.version}" if arm.version else "")))
        for arm in route.arms
    )
    where = " ".join(applies) or "every request"
    return f"{route.name:<24} {source:<8} {where}; by {route.key}: {arms}"


@routes.command("set")
@click.argument("name")
@click.option(
    "--arm",
    "arms",
    multiple=True,
    required=True,
    help="name=..,weight=..,model=.. or version=.. (repeat for each arm; weight defaults to 100).",
)
@click.option("--prompt", default="", help="Only requests for this prompt.")
@click.option("--model", default="", help="Only requests for this model.")
@click.option("--key", default="user", show_default=True, help="The tag that assigns the arm.")
@click.option("--when", "when", multiple=True, help="TAG=VALUE the request must carry (repeat).")
@db_option
@click.pass_context
def routes_set(
    ctx: click.Context,
    name: str,
    arms: tuple[str, ...],
    prompt: str,
    model: str,
    key: str,
    when: tuple[str, ...],
    db: str | None,
) -> None:
    """Add or replace route NAME; running gateways pick it up within 30 s. A database route
    replaces a config route of the same name."""
    from datetime import UTC, datetime

    from llmbench.core.routing import Route, RouteError, parse_arm
    from llmbench.services.database import open_store
    from llmbench.store.routes import set_route

    tags: dict[str, str] = {}
    for condition in when:
        tag, equals, value = condition.partition("=")
        if not equals or not tag.strip():
            raise click.UsageError(f"--when {condition!r}: write TAG=VALUE")
        tags[tag.strip()] = value.strip()
    try:
        route = Route(
            name,
            tuple(parse_arm(spec) for spec in arms),
            prompt=prompt,
            model=model,
            key=key,
            when=tags,
        )
    except RouteError as error:
        raise click.UsageError(str(error)) from None
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    with open_store(_db_path(ctx, db)) as store:
        replaced = store.write(lambda conn: set_route(conn, route, now))
    click.echo(f"{'replaced' if replaced else 'added'} " + _describe_route(route, "database"))


@routes.command("delete")
@click.argument("name")
@db_option
@click.pass_context
def routes_delete(ctx: click.Context, name: str, db: str | None) -> None:
    """Remove route NAME from the database (a config route is edited in the config file)."""
    from llmbench.services.database import open_store
    from llmbench.store.routes import delete_route

    with open_store(_db_path(ctx, db), create=False) as store:
        removed = store.write(lambda conn: delete_route(conn, name))
    if removed:
        click.echo(f"deleted route {name}")
        return
    settings = _settings()
    if any(route.name == name for route in settings.routes):
        raise click.ClickException(
            f"route {name} is in the config file ({settings.source}), not the database: "
            "edit it there"
        )
    raise click.ClickException(f"no route {name} in the database")


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


@cli.group()
def grades() -> None:
    """Rubrics and the grades reviewers gave (F4 in the TUI)."""


@grades.command("export")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default=None,
    help="Default: from OUT's extension (.jsonl, else csv).",
)  # fmt: skip
@click.option("--rubric", help="Only this rubric's grades.")
@db_option
@click.pass_context
def grades_export(
    ctx: click.Context, out: Path, fmt: str | None, rubric: str | None, db: str | None
) -> None:
    """Write every grade (regrades included) to OUT as CSV or JSONL."""
    from llmbench.services.database import open_store
    from llmbench.services.grading import export_grades

    chosen = fmt or ("jsonl" if out.suffix.lower() == ".jsonl" else "csv")
    with open_store(_db_path(ctx, db), create=False) as store:
        try:
            written = export_grades(store, out, fmt=chosen, rubric=rubric)
        except LookupError as error:
            raise click.ClickException(str(error.args[0])) from None
    click.echo(f"{written} grades written to {out} ({chosen})")


@grades.command("rubric")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Update the rubric of that name if it exists.")
@db_option
@click.pass_context
def grades_rubric(ctx: click.Context, path: Path, replace: bool, db: str | None) -> None:
    """Add (or with --replace update) a rubric from a TOML or YAML file."""
    from llmbench.core.rubrics import RubricError
    from llmbench.services.database import open_store
    from llmbench.services.grading import import_rubric

    with open_store(_db_path(ctx, db), create=True) as store:
        try:
            rubric_id = import_rubric(store, path, replace=replace)
        except (RubricError, ValueError) as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"rubric #{rubric_id} saved from {path.name}")


@cli.command("eval")
@click.argument("suite", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--baseline", type=int, help="Compare with this earlier run (its id).")
@click.option(
    "--fail-under",
    default="100%",
    show_default=True,
    help="Least share of cells that must pass: 0.9, 90 or 90%.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the results: .json, .csv or .xml (JUnit).",
)
@click.option("--concurrency", type=click.IntRange(min=1), help="Cells in flight at once.")
@click.option("--resume", "resume_run", type=int, help="Run the missing cells of this run.")
@db_option
@click.pass_context
def eval_command(
    ctx: click.Context,
    suite: Path | None,
    baseline: int | None,
    fail_under: str,
    output: Path | None,
    concurrency: int | None,
    resume_run: int | None,
    db: str | None,
) -> None:
    """Run an evaluation suite (SUITE.yaml) headless, for CI.

    Exit 0 when every cell passes (or --fail-under of them) and no case that passed in the
    --baseline run fails now; 1 when checks fail or a case regressed; 2 for bad input.
    """
    from llmbench.services.eval_export import EXPORT_SUFFIXES
    from llmbench.services.eval_verdict import parse_rate

    if (suite is None) == (resume_run is None):
        _fail("give a suite file, or --resume RUN (not both)", USAGE_EXIT)
    try:
        rate = parse_rate(fail_under)
    except ValueError:
        _fail(f"--fail-under: {fail_under!r} is not a pass rate (0.9, 90 or 90%)", USAGE_EXIT)
    if output is not None and output.suffix.lower() not in EXPORT_SUFFIXES:
        _fail(f"-o {output}: use a .json, .csv or .xml (JUnit) file", USAGE_EXIT)
    settings = _settings()
    from llmbench.services.database import open_store

    with open_store(_db_path(ctx, db)) as store:
        code = _run_eval(store, settings, suite, resume_run, baseline, rate, output, concurrency)
    sys.exit(code)


def _run_eval(
    store: Any,
    settings: Settings,
    suite: Path | None,
    resume_run: int | None,
    baseline: int | None,
    rate: float,
    output: Path | None,
    concurrency: int | None,
) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from llmbench.gateway.client import shutdown_sync
    from llmbench.importers.eval_suite import SuiteError
    from llmbench.services.eval_export import write_report
    from llmbench.services.eval_suite import prepare_suite
    from llmbench.services.eval_verdict import verdict_of
    from llmbench.services.evaluation import (
        EvalError,
        create_eval_run,
        prefetch_gateway,
        require_run,
        resume,
    )

    prefetch_gateway()
    try:
        for run in (baseline, resume_run):
            if run is not None:
                require_run(store, run)
        if suite is not None:
            prepared = prepare_suite(store, suite, concurrency=concurrency)
            for name in prepared.saved_versions:
                click.echo(f"saved a new version of {name}", err=True)
            run_id = create_eval_run(store, prepared.plan, baseline_run_id=baseline)
        else:
            assert resume_run is not None
            run_id = resume_run
    except SuiteError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        return USAGE_EXIT
    except EvalError as error:
        click.echo(f"llmbench: {error}", err=True)
        return USAGE_EXIT
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task(f"run {run_id}", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            summary = resume(store, settings, run_id, progress=advance, concurrency=concurrency)
        except EvalError as error:
            click.echo(f"llmbench: {error}", err=True)
            return USAGE_EXIT
        except KeyboardInterrupt:
            progress.stop()
            kept = f"finished cells are kept: llmbench eval --resume {run_id}"
            click.echo(f"run {run_id} cancelled; {kept}", err=True)
            return 130
        finally:
            shutdown_sync()
    if baseline is None and resume_run is not None:
        from llmbench.store.run_cells import run_plan

        row = run_plan(store.read(), run_id)
        baseline = row.baseline_run_id if row else None
    try:
        verdict = verdict_of(store, summary, baseline_run_id=baseline, fail_under=rate)
    except EvalError as error:
        click.echo(f"llmbench: {error}", err=True)
        return USAGE_EXIT
    # CI logs are not terminals: a wide table there keeps model names on one line.
    _print_verdict(Console(width=None if sys.stdout.isatty() else 160), verdict)
    if output is not None:
        run = {
            "id": summary.run_id,
            "name": summary.name,
            "status": summary.status,
            "total": summary.total,
            "finished": summary.finished,
            "errors": summary.errors,
            "pass_rate": verdict.pass_rate,
            "passed": verdict.exit_code == 0,
            "baseline_run_id": baseline,
        }
        try:
            write_report(
                output,
                run=run,
                cells=verdict.cells,
                board=verdict.board,
                migration=verdict.migration,
            )
        except OSError as error:
            click.echo(f"llmbench: cannot write {output}: {error.strerror}", err=True)
            return USAGE_EXIT
    return verdict.exit_code


def _print_verdict(console: Any, verdict: Any) -> None:
    from rich.table import Table

    table = Table(title=verdict.summary.line(), title_justify="left")
    for column in ("prompt", "model", "pass", "rate", "judge", "$/case", "p50 ms", "p95 ms", "err"):
        table.add_column(column, justify="left" if column in ("prompt", "model") else "right")
    for group in verdict.board:
        table.add_row(
            group.version_label or "draft",
            group.model,
            f"{group.passed}/{group.cells}",
            f"{group.pass_rate:.0%}",
            "–" if group.mean_judge_score is None else f"{group.mean_judge_score:.2f}",
            "–" if group.cost_per_case is None else f"{group.cost_per_case:.5f}",
            "–" if group.latency_p50_ms is None else f"{group.latency_p50_ms:.0f}",
            "–" if group.latency_p95_ms is None else f"{group.latency_p95_ms:.0f}",
            str(group.errors),
        )
    console.print(table)
    if verdict.migration is not None:
        console.print(verdict.migration.verdict(), markup=False)
    reasons = verdict.reasons()
    status = "FAIL: " + "; ".join(reasons) if reasons else "PASS"
    console.print(f"{status} (pass rate {verdict.pass_rate:.1%})", markup=False)


def main() -> None:
    cli(prog_name="llmbench")
