"""`llmbench monitor`: drift checks, quality samples and alerts."""

from __future__ import annotations

from pathlib import Path

import click

from llmbench.cli.common import (
    cli_settings,
    db_option,
    resolve_db,
)


@click.group()
def monitor() -> None:
    """Operational health: drift detection over latency and quality, and the alerts it raises."""


@monitor.command("check")
@db_option
@click.option(
    "--days", type=click.IntRange(8, 365), default=30, show_default=True, help="History judged."
)
@click.option(
    "--both-directions",
    is_flag=True,
    help="Also report shifts to the good side (latency down, pass rate up), as info alerts.",
)
@click.pass_context
def monitor_check(ctx: click.Context, db: str | None, days: int, both_directions: bool) -> None:
    """Look for drift in every latency and quality series; raise an alert for each new one.

    Only harmful shifts count (latency up; pass rate, thumbs-up and ratings down) unless
    --both-directions. Exit 0 either way; the alerts name the series, baseline, current
    level, change and onset.
    """
    from llmbench.services.database import open_store
    from llmbench.services.monitoring.health import check_drift, list_alerts

    with open_store(resolve_db(ctx, db), create=False) as store:
        result = check_drift(store, days=days, both_ways=both_directions)
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
    from llmbench.importers.eval_suite_docs import SuiteError
    from llmbench.services.database import open_store
    from llmbench.services.monitoring.quality_sample import SampleError, sample_production

    with open_store(resolve_db(ctx, db), create=False) as store:
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
    from llmbench.services.monitoring.health import list_alerts

    with open_store(resolve_db(ctx, db), create=False) as store:
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
    from llmbench.services.monitoring.health import ack_alert

    who = cli_settings().general.reviewer
    with open_store(resolve_db(ctx, db), create=False) as store:
        if not ack_alert(store, alert_id, who):
            raise click.ClickException(f"no open alert #{alert_id}")
    click.echo(f"acknowledged alert #{alert_id} as {who}")
