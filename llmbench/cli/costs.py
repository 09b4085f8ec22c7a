"""`llmbench costs`: spend broken down by any two dimensions."""

from __future__ import annotations

import sys
from typing import Any

import click

from llmbench.cli.common import (
    db_option,
    resolve_db,
)


def _cost_filters(where: tuple[str, ...]) -> dict[str, str | None]:
    from llmbench.services.costs.breakdowns import UNTAGGED
    from llmbench.store.costs.breakdowns import FILTER_COLUMNS

    filters: dict[str, str | None] = {}
    for item in where:
        name, sep, value = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in FILTER_COLUMNS:
            known = ", ".join(FILTER_COLUMNS)
            raise click.UsageError(f"--where {item!r}: use DIMENSION=VALUE with one of {known}")
        filters[name] = None if value in ("", "-", UNTAGGED) else value
    return filters


@click.command()
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

    from llmbench.services.costs import breakdowns as cost_service
    from llmbench.services.database import open_store

    try:
        dimensions = cost_service.parse_by(by)
        start, stop = cost_service.window(since, until, datetime.now(UTC))
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    filters = _cost_filters(where)
    with open_store(resolve_db(ctx, db), create=False) as store:
        prices = cost_service.current_prices(store) if reprice else None
        data = cost_service.breakdown(store, dimensions, start, stop, filters, prices=prices)
        unpriced = cost_service.unpriced_models(store, start, stop)
    if fmt == "json":
        click.echo(json.dumps(cost_service.as_json(data, unpriced), indent=2))
    elif fmt == "csv":
        csv.writer(sys.stdout, lineterminator="\n").writerows(cost_service.csv_rows(data))
    else:
        click.echo(_cost_table(data, unpriced))


def _cost_table(data: Any, unpriced: list[tuple[str, int, int, int]]) -> str:
    from llmbench.services.costs.breakdown_rows import rows_flat
    from llmbench.tui.format import count, money, percent

    repriced = data.total.repriced is not None
    # Reasoning and cache-write tokens (m014): columns only when the window counts some.
    details = [(name, field) for name, field in (("reasoning", "reasoning_tokens"),
               ("cache write", "cache_write_tokens")) if getattr(data.total, field)]  # fmt: skip
    head = ["  ".join(data.by), "calls", "prompt", "completion", "cached",
            *(name for name, _ in details), "cost", "share",
            "per call"] + (["today's prices"] if repriced else [])  # fmt: skip
    lines = [head]

    def cells(label: str, figures: Any, share: float | None) -> list[str]:
        return [label, count(figures.calls), count(figures.prompt_tokens),
                count(figures.completion_tokens), count(figures.cached_tokens),
                *(count(getattr(figures, field)) for _, field in details),
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
