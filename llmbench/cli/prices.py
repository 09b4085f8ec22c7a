"""`llmbench prices`: dated price overrides and unpriced models."""

from __future__ import annotations

import click

from llmbench.cli.common import (
    db_option,
    resolve_db,
)


@click.group()
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
    from llmbench.services.costs.prices import set_price
    from llmbench.services.database import open_for_command

    price = Price(input_price, output_price, input_price if cached_price is None else cached_price)
    with open_for_command(resolve_db(ctx, db)) as store:
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
    from llmbench.services.costs.prices import listing
    from llmbench.services.database import open_store

    with open_store(resolve_db(ctx, db), create=False) as store:
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
