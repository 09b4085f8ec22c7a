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
@click.option(
    "--no-judge",
    "no_judge",
    is_flag=True,
    help="Run only the deterministic checks (no judge model calls).",
)
@db_option
@click.pass_context
def monitor_sample(
    ctx: click.Context,
    prompt_name: str,
    suite: Path,
    rate: float,
    days: int,
    no_judge: bool,
    db: str | None,
) -> None:
    """Run a suite's checks and judge rubrics on a sample of PROMPT's production calls.

    The suite's deterministic checks run on each sampled call, and the judge model (the
    suite's judge: model, else [models] judge_model) scores it: the suite's `judge` checks,
    or, when it has none, instruction following, relevance, format and safety. The outcomes
    are stored as checks on the calls, so F7's quality over time and `monitor check` see them.
    A judge that fails is recorded with its reason and the sample goes on. Checks needing an
    expected answer or a test case's variables are skipped and named.
    """
    from llmbench.importers.eval_suite_docs import SuiteError
    from llmbench.services.database import open_store
    from llmbench.services.monitoring.quality_sample import SampleError, sample_production

    with open_store(resolve_db(ctx, db), create=False) as store:
        try:
            outcome = sample_production(
                store,
                prompt_name,
                suite,
                rate=rate,
                days=days,
                settings=cli_settings(),
                judge=not no_judge,
            )
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
    if outcome.judge_model:
        score = f", mean score {outcome.judge_score:.2f}" if outcome.judge_score is not None else ""
        failed = (
            f", {outcome.judge_failures:,} failed (recorded without a verdict)"
            if outcome.judge_failures
            else ""
        )
        click.echo(f"judge {outcome.judge_model}: {outcome.judged:,} verdicts{score}{failed}")


@monitor.command("consistency")
@click.option(
    "--prompt", "prompt_name", default=None, help="Only this prompt (default: every prompt)."
)
@click.option(
    "--days", type=click.IntRange(1, 365), default=7, show_default=True, help="Days measured."
)
@click.option(
    "--query-threshold",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.6,
    show_default=True,
    help="Word overlap (Jaccard) from which two queries count as similar.",
)
@click.option(
    "--answer-threshold",
    type=click.FloatRange(0, 1),
    default=0.3,
    show_default=True,
    help="Answer similarity (word cosine) below which two answers diverge.",
)
@db_option
@click.pass_context
def monitor_consistency(
    ctx: click.Context,
    prompt_name: str | None,
    days: int,
    query_threshold: float,
    answer_threshold: float,
    db: str | None,
) -> None:
    """Find similar production queries whose answers diverge, per prompt and day.

    Two calls of one prompt on one day whose user messages share most of their words are a
    pair; a pair diverges when the answers share few words or name different figures for the
    same question. Each day's share of diverging pairs is stored: F7 shows it as a series
    and `monitor check` watches it for drift. Examples name the calls to open in F6.
    """
    from llmbench.core.monitoring.consistency import ConsistencySettings
    from llmbench.services.database import open_store
    from llmbench.services.monitoring.consistency import ConsistencyError, measure_consistency

    settings = ConsistencySettings(
        query_threshold=query_threshold, answer_threshold=answer_threshold
    )
    with open_store(resolve_db(ctx, db), create=False) as store:
        try:
            measured = measure_consistency(store, prompt=prompt_name, days=days, settings=settings)
        except ConsistencyError as error:
            raise click.ClickException(str(error)) from None
    if not any(item.days for item in measured):
        click.echo(f"no production calls in the last {days} days")
        return
    for item in measured:
        if not item.days:
            continue
        share = f"{item.divergent / item.pairs * 100:.1f}%" if item.pairs else "-"
        click.echo(
            f"{item.prompt}: {item.pairs:,} similar pairs, {item.divergent:,} diverging ({share})"
        )
        for day in item.days:
            day_share = f"{day.share * 100:5.1f}%" if day.share is not None else "     -"
            examples = ", ".join(f"#{first} vs #{second}" for first, second in day.examples)
            click.echo(
                f"  {day.day}  {day.calls:>7,} calls  {day.pairs:>8,} pairs  {day_share}"
                + (f"  e.g. {examples}" if examples else "")
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
