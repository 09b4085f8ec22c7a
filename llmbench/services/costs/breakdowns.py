"""Cost breakdowns shared by F5 and `llmbench costs`: spend by one or two dimensions, each row
with its calls, tokens, cost, share of the total, cost per call and its last 30 days.

The store sums per raw column and day in one scan; this module folds days into weeks and
months, version ids into prompts, and nests the second dimension under the first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

from llmbench.core.models import Price
from llmbench.services.costs import window_sums as costs_cache
from llmbench.services.costs.breakdown_rows import (
    Breakdown,
    BreakdownRow,
    Entry,
    Figures,
    Key,
    figures_of,
    nest,
    rows_at,
    rows_flat,
    total_of,
    walk,
    with_sparks,
)
from llmbench.store.costs import breakdowns as costs_repo
from llmbench.store.db import Store
from llmbench.store.views import to_iso

DIMENSIONS: tuple[str, ...] = (
    "model",
    "provider",
    "prompt",
    "version",
    "feature",
    "team",
    "customer",
    "task_type",
    "user",
    "conversation",
    "day",
    "week",
    "month",
)
SPARK_DAYS = 30
UNTAGGED = "(untagged)"

PriceLookup = Callable[[str], Price | None]


def parse_by(text: str) -> tuple[str, ...]:
    """'feature,model' → ('feature', 'model'); one or two known dimensions, no repeats."""
    names = tuple(part.strip().replace("-", "_") for part in text.split(",") if part.strip())
    aliases = {"task": "task_type", "prompt_version": "version", "session": "conversation"}
    names = tuple(aliases.get(name, name) for name in names)
    if not 1 <= len(names) <= 2:
        raise ValueError("group by one or two dimensions, e.g. --by feature,model")
    unknown = [name for name in names if name not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimension {unknown[0]!r}; known: {', '.join(DIMENSIONS)}")
    if len(set(names)) != len(names):
        raise ValueError("a dimension can appear once")
    return names


def _week(day: str) -> str:
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


class _Labeller:
    """Turns a raw grouped key into what the dimension shows and filters on."""

    def __init__(self, versions: Mapping[int, tuple[str, int]]) -> None:
        self.versions = versions

    def value(self, dimension: str, raw: Key) -> Key:
        if raw is None:
            return None
        if dimension == "prompt":
            return self.versions.get(int(raw), (f"version #{raw}", 0))[0]
        if dimension == "week":
            return _week(str(raw))
        if dimension == "month":
            return str(raw)[:7]
        return raw

    def label(self, dimension: str, value: Key) -> str:
        if value is None or value == "":
            return UNTAGGED
        if dimension == "version":
            name, number = self.versions.get(int(value), (f"version #{value}", 0))
            return f"{name} v{number}" if number else name
        return str(value)


def spark_days(until: str, days: int = SPARK_DAYS) -> tuple[str, ...]:
    """The `days` UTC days ending with the one `until` (exclusive) falls in."""
    end = datetime.fromisoformat(until.replace("Z", "+00:00")) - timedelta(milliseconds=1)
    last = end.date()
    return tuple((last - timedelta(days=offset)).isoformat() for offset in range(days - 1, -1, -1))


def _read(
    store: Store,
    by: Sequence[str],
    since: str,
    until: str,
    filters: Mapping[str, Key],
    prices: PriceLookup | None,
) -> list[Entry]:
    db = store.read()
    columns = list(by) + (["model"] if prices is not None else [])
    labeller = _Labeller(costs_repo.version_labels(db))
    found = []
    cache: dict[str, Price | None] = {}
    width = len(by)
    # Most dimensions show the stored value as it is; only those do not need the labeller
    # (a breakdown by user turns tens of thousands of grouped rows into figures).
    as_stored = not {"prompt", "week", "month"} & set(by)
    for row in costs_cache.grouped(store, columns, since, until, filters):
        price = None
        if prices is not None:
            model = str(row.keys[-1])
            if model not in cache:
                cache[model] = prices(model)
            price = cache[model]
        if as_stored:
            keys = row.keys if len(row.keys) == width else row.keys[:width]
        else:
            keys = tuple(labeller.value(name, row.keys[i]) for i, name in enumerate(by))
        found.append((keys, row.day, figures_of(row, price, prices is not None)))
    return found


def breakdown(
    store: Store,
    by: Sequence[str],
    since: str,
    until: str,
    filters: Mapping[str, Key] | None = None,
    *,
    prices: PriceLookup | None = None,
) -> Breakdown:
    """Spend in [since, until) by `by` (one or two of DIMENSIONS), biggest first (periods in
    time order). With `prices` each row also carries its cost at those prices (`repriced`)."""
    by = tuple(by)
    if not 1 <= len(by) <= 2 or any(name not in DIMENSIONS for name in by):
        raise ValueError(f"cannot break costs down by {by!r}")
    filters = dict(filters or {})
    days = spark_days(until)
    entries = _read(store, by, since, until, filters, prices)
    spark_since = days[0] + "T00:00:00.000Z"
    if spark_since < since:
        # A window shorter than the sparkline: read the sparkline's days on their own.
        spark_entries = _read(store, by, spark_since, until, filters, None)
    else:
        spark_entries = entries
    total = total_of(figures for _keys, _day, figures in entries)
    labeller = _Labeller(costs_repo.version_labels(store.read()))
    rows = nest(entries, by, 0, labeller.label, days, total.cost)
    if spark_entries is not entries:
        sparks = {
            path: row.daily
            for path, row in walk(nest(spark_entries, by, 0, labeller.label, days, total.cost))
        }
        rows = with_sparks(rows, sparks, len(days))
    total_daily = [0.0] * len(days)
    index_of_day = {day: index for index, day in enumerate(days)}
    for _keys, day, figures in spark_entries:
        if day in index_of_day:
            total_daily[index_of_day[day]] += figures.cost
    return Breakdown(by, since, until, filters, total, rows, days, tuple(total_daily))


def window(since: str | None, until: str | None, now: datetime) -> tuple[str, str]:
    """[since, until) from typed bounds: a span (30d, 12h, 2w), a date or a date and time;
    `until` defaults to now and a whole day includes all of it. Raises ValueError."""
    from llmbench.core.audit.query import QueryError, parse_moment

    def moment(text: str, end: bool) -> str:
        try:
            resolved = parse_moment(text, now)
        except QueryError as error:
            raise ValueError(error.message) from None
        if not end and len(text) == 10 and text[4] == "-":
            # parse_moment ends a whole day at the next midnight; a start begins at its own.
            return text + "T00:00:00.000Z"
        return resolved

    start = moment(since or "30d", end=False)
    stop = moment(until, end=True) if until else to_iso(now.astimezone(UTC))
    if start >= stop:
        raise ValueError("the window is empty: --since must come before --until")
    return start, stop


def unpriced_models(
    store: Store, since: str, until: str, data: Breakdown | None = None
) -> list[tuple[str, int, int, int]]:
    """Models answering without a price in the window, with their volume. Which models have
    unpriced calls comes from `data` when it is grouped by model (else from the held per-model
    sums); only those models' calls are read."""
    if data is not None and "model" in data.by:
        depth = data.by.index("model")
        models = sorted(
            {str(row.value) for row in rows_at(data.rows, depth) if row.figures.unpriced}
        )
    else:
        by_model = costs_cache.grouped(store, ["model"], since, until)
        models = sorted({str(row.keys[0]) for row in by_model if row.unpriced})
    return costs_repo.unpriced_models(store.read(), since, until, models)


def current_prices(store: Store) -> PriceLookup:
    """Today's price of a model: the user's dated overrides first, then litellm's table (read
    once, lazily, only for models the overrides do not price)."""
    from llmbench.store.costs.prices import load_price_table

    table = load_price_table(store.read())
    today = to_iso(datetime.now(UTC))

    def lookup(model: str) -> Price | None:
        price = table.price(model, today)
        if price is not None:
            return price
        from llmbench.gateway.model_prices import price_for

        try:
            return price_for(model)
        except Exception:  # a model litellm cannot place is unpriced, not a failed report
            return None

    return lookup


# -- output ----------------------------------------------------------------------------------

FIGURE_FIELDS = (
    "calls",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "cache_write_tokens",
    "cost",
    "share",
    "cost_per_call",
)


def _figure_dict(figures: Figures, share: float | None) -> dict[str, object]:
    out: dict[str, object] = {
        "calls": figures.calls,
        "prompt_tokens": figures.prompt_tokens,
        "completion_tokens": figures.completion_tokens,
        "cached_tokens": figures.cached_tokens,
        "reasoning_tokens": figures.reasoning_tokens,
        "cache_write_tokens": figures.cache_write_tokens,
        "cost": round(figures.cost, 10),
        "share": None if share is None else round(share, 10),
        "cost_per_call": None
        if figures.cost_per_call is None
        else round(figures.cost_per_call, 10),
        "saving": round(figures.saving, 10),
        "unpriced_calls": figures.unpriced,
    }
    if figures.repriced is not None:
        out["repriced_cost"] = round(figures.repriced, 10)
    return out


def as_json(
    data: Breakdown, unpriced: Sequence[tuple[str, int, int, int]] = ()
) -> dict[str, object]:
    def row_json(row: BreakdownRow) -> dict[str, object]:
        out: dict[str, object] = {"label": row.label, "value": row.value}
        out.update(_figure_dict(row.figures, row.share))
        out["daily_cost"] = [round(value, 10) for value in row.daily]
        if row.children:
            out["children"] = [row_json(child) for child in row.children]
        return out

    return {
        "by": list(data.by),
        "since": data.since,
        "until": data.until,
        "filters": dict(data.filters),
        "days": list(data.spark_days),
        "total": _figure_dict(data.total, 1.0 if data.total.cost else None),
        "rows": [row_json(row) for row in data.rows],
        "unpriced_models": [
            {"model": m, "calls": c, "prompt_tokens": p, "completion_tokens": o}
            for m, c, p, o in unpriced
        ],
    }


def csv_rows(data: Breakdown) -> list[list[object]]:
    """A header and one line per row; a parent's line leaves the nested column empty."""
    repriced = data.total.repriced is not None
    header: list[object] = [*data.by, *FIGURE_FIELDS] + (["repriced_cost"] if repriced else [])
    lines: list[list[object]] = [header]
    for labels, row in rows_flat(data):
        padded = list(labels) + [""] * (len(data.by) - len(labels))
        figures = _figure_dict(row.figures, row.share)
        line = padded + [figures[name] for name in FIGURE_FIELDS]
        if repriced:
            line.append(figures.get("repriced_cost"))
        lines.append(line)
    return lines
