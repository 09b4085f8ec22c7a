"""`llmbench budgets`: spend limits per scope and period, and their alerts."""

from __future__ import annotations

import click

from llmbench.cli.common import (
    db_option,
    resolve_db,
)


@click.group()
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
    from llmbench.services.costs import budgets as budget_service
    from llmbench.services.database import open_for_command

    with open_for_command(resolve_db(ctx, db)) as store:
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

    from llmbench.services.costs import budgets as budget_service
    from llmbench.services.database import open_store

    with open_store(resolve_db(ctx, db), create=False) as store:
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
    from llmbench.services.costs import budgets as budget_service
    from llmbench.services.database import open_store

    with open_store(resolve_db(ctx, db), create=False) as store:
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

    from llmbench.services.costs import budgets as budget_service
    from llmbench.services.database import open_store

    with open_store(resolve_db(ctx, db), create=False) as store:
        result = budget_service.check_costs(store, datetime.now(UTC), days)
        alerts = {alert.id: alert for alert in budget_service.cost_alerts(store)}
    incidents = f"{result.incidents} incident{'s' if result.incidents != 1 else ''}"
    grown = f", {len(result.grown_alert_ids)} grown" if result.grown_alert_ids else ""
    click.echo(
        f"{result.budgets} budget{'s' if result.budgets != 1 else ''} checked, "
        f"{result.spikes} spiking bucket{'s' if result.spikes != 1 else ''} in {incidents}, "
        f"{len(result.new_alert_ids)} new alert{'s' if len(result.new_alert_ids) != 1 else ''}"
        f"{grown}"
    )
    for alert_id in result.new_alert_ids:
        if alert_id in alerts:
            alert = alerts[alert_id]
            click.echo(f"#{alert.id} {alert.severity}: {alert.message}")
