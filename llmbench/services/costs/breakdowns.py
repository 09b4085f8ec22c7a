"""Cost breakdowns shared by F5 and `llmbench costs`: spend by one or two dimensions, each row
with its calls, tokens, cost, share of the total, cost per call and its last 30 days.

The store sums per raw column and day in one scan; this module folds days into weeks and
months, version ids into prompts, and nests the second dimension under the first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from llmbench.core.costs.pricing import PER_MILLION
from llmbench.core.models import Price
from llmbench.services.costs import window_sums as costs_cache
from llmbench.store.costs import breakdowns as costs_repo
from llmbench.store.costs.breakdowns import GroupedRow
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
    "day",
    "week",
    "month",
)
PERIODS = ("day", "week", "month")
SPARK_DAYS = 30
UNTAGGED = "(untagged)"

Key = str | int | None
PriceLookup = Callable[[str], Price | None]


# Not frozen, for speed (see store.costs.GroupedRow): one is made per grouped row and day.
@dataclass(slots=True)
class Figures:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost: float = 0.0
    saving: float = 0.0
    unpriced: int = 0
    repriced: float | None = None  # the same calls at today's prices, when asked for

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def cost_per_call(self) -> float | None:
        return self.cost / self.calls if self.calls else None


def total_of(parts: Iterable[Figures]) -> Figures:
    """The sum of many figures (what `plus` does pairwise, without a new object per step)."""
    calls = prompt = completion = cached = unpriced = 0
    cost = saving = 0.0
    repriced: float | None = None
    for part in parts:
        calls += part.calls
        prompt += part.prompt_tokens
        completion += part.completion_tokens
        cached += part.cached_tokens
        cost += part.cost
        saving += part.saving
        unpriced += part.unpriced
        if part.repriced is not None:
            repriced = (repriced or 0.0) + part.repriced
    return Figures(calls, prompt, completion, cached, cost, saving, unpriced, repriced)


@dataclass(frozen=True)
class BreakdownRow:
    label: str  # as shown: "(untagged)" for calls without the tag
    value: Key  # what a filter on this row's dimension compares (None: untagged)
    figures: Figures
    share: float | None  # of the whole window's cost
    daily: tuple[float, ...]  # cost on each of Breakdown.spark_days
    children: tuple[BreakdownRow, ...] = ()


@dataclass(frozen=True)
class Breakdown:
    by: tuple[str, ...]
    since: str
    until: str
    filters: Mapping[str, Key]
    total: Figures
    rows: tuple[BreakdownRow, ...]
    spark_days: tuple[str, ...]
    total_daily: tuple[float, ...] = field(default=())


def parse_by(text: str) -> tuple[str, ...]:
    """'feature,model' → ('feature', 'model'); one or two known dimensions, no repeats."""
    names = tuple(part.strip().replace("-", "_") for part in text.split(",") if part.strip())
    aliases = {"task": "task_type", "prompt_version": "version"}
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


def _figures(row: GroupedRow, price: Price | None, reprice: bool) -> Figures:
    repriced: float | None = None
    if reprice and price is not None:
        uncached = max(row.prompt_tokens - row.cached_tokens, 0)
        repriced = (
            uncached * price.input
            + row.cached_tokens * price.cached
            + row.completion_tokens * price.output
        ) / PER_MILLION
    return Figures(
        row.calls,
        row.prompt_tokens,
        row.completion_tokens,
        row.cached_tokens,
        row.cost,
        row.saving,
        row.unpriced,
        repriced,
    )


def _sort_key(dimension: str) -> Callable[[BreakdownRow], tuple[object, ...]]:
    if dimension in PERIODS:
        return lambda row: (row.value is None, str(row.value))
    return lambda row: (-row.figures.cost, row.value is None, row.label)


def _nest(
    entries: Sequence[tuple[tuple[Key, ...], str, Figures]],
    by: Sequence[str],
    depth: int,
    labeller: _Labeller,
    days: tuple[str, ...],
    grand: float,
) -> tuple[BreakdownRow, ...]:
    index_of_day = {day: index for index, day in enumerate(days)}
    groups: dict[Key, list[tuple[tuple[Key, ...], str, Figures]]] = {}
    for entry in entries:
        groups.setdefault(entry[0][depth], []).append(entry)
    rows = []
    for value, members in groups.items():
        total = total_of(figures for _keys, _day, figures in members)
        daily = [0.0] * len(days)
        for _keys, day, figures in members:
            if day in index_of_day:
                daily[index_of_day[day]] += figures.cost
        children = (
            _nest(members, by, depth + 1, labeller, days, grand) if depth + 1 < len(by) else ()
        )
        rows.append(
            BreakdownRow(
                label=labeller.label(by[depth], value),
                value=value,
                figures=total,
                share=total.cost / grand if grand else None,
                daily=tuple(daily),
                children=children,
            )
        )
    return tuple(sorted(rows, key=_sort_key(by[depth])))


def _read(
    store: Store,
    by: Sequence[str],
    since: str,
    until: str,
    filters: Mapping[str, Key],
    prices: PriceLookup | None,
) -> list[tuple[tuple[Key, ...], str, Figures]]:
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
        found.append((keys, row.day, _figures(row, price, prices is not None)))
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
    rows = _nest(entries, by, 0, labeller, days, total.cost)
    if spark_entries is not entries:
        sparks = {
            path: row.daily
            for path, row in _walk(_nest(spark_entries, by, 0, labeller, days, total.cost))
        }
        rows = _with_sparks(rows, sparks, len(days))
    total_daily = [0.0] * len(days)
    index_of_day = {day: index for index, day in enumerate(days)}
    for _keys, day, figures in spark_entries:
        if day in index_of_day:
            total_daily[index_of_day[day]] += figures.cost
    return Breakdown(by, since, until, filters, total, rows, days, tuple(total_daily))


def _walk(
    rows: Iterable[BreakdownRow], parent: tuple[Key, ...] = ()
) -> Iterable[tuple[tuple[Key, ...], BreakdownRow]]:
    for row in rows:
        yield (*parent, row.value), row
        yield from _walk(row.children, (*parent, row.value))


def _with_sparks(
    rows: tuple[BreakdownRow, ...],
    sparks: Mapping[tuple[Key, ...], tuple[float, ...]],
    days: int,
    parent: tuple[Key, ...] = (),
) -> tuple[BreakdownRow, ...]:
    return tuple(
        replace(
            row,
            daily=sparks.get((*parent, row.value), (0.0,) * days),
            children=_with_sparks(row.children, sparks, days, (*parent, row.value)),
        )
        for row in rows
    )


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


def rows_flat(data: Breakdown) -> list[tuple[tuple[str, ...], BreakdownRow]]:
    """Every row with its labels from the top, parents before their children."""
    flat: list[tuple[tuple[str, ...], BreakdownRow]] = []

    def visit(rows: Iterable[BreakdownRow], labels: tuple[str, ...]) -> None:
        for row in rows:
            flat.append(((*labels, row.label), row))
            visit(row.children, (*labels, row.label))

    visit(data.rows, ())
    return flat


def unpriced_models(
    store: Store, since: str, until: str, data: Breakdown | None = None
) -> list[tuple[str, int, int, int]]:
    """Models answering without a price in the window, with their volume. Which models have
    unpriced calls comes from `data` when it is grouped by model (else from the held per-model
    sums); only those models' calls are read."""
    if data is not None and "model" in data.by:
        depth = data.by.index("model")
        models = sorted(
            {str(row.value) for row in _rows_at(data.rows, depth) if row.figures.unpriced}
        )
    else:
        by_model = costs_cache.grouped(store, ["model"], since, until)
        models = sorted({str(row.keys[0]) for row in by_model if row.unpriced})
    return costs_repo.unpriced_models(store.read(), since, until, models)


def _rows_at(rows: Iterable[BreakdownRow], depth: int) -> Iterable[BreakdownRow]:
    """The rows `depth` levels down (0: the top rows)."""
    for row in rows:
        if depth == 0:
            yield row
        else:
            yield from _rows_at(row.children, depth - 1)


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
        from llmbench.gateway.client import price_for

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


# -- drill-down ------------------------------------------------------------------------------


def _period_bounds(dimension: str, value: str) -> tuple[str, str]:
    """The first and last day (inclusive) of a day, ISO week or month label."""
    if dimension == "day":
        return value, value
    if dimension == "week":
        year, week = value.split("-W")
        first = date.fromisocalendar(int(year), int(week), 1)
        return first.isoformat(), (first + timedelta(days=6)).isoformat()
    year, month = (int(part) for part in value.split("-"))
    following = date(year + month // 12, month % 12 + 1, 1)
    return f"{value}-01", (following - timedelta(days=1)).isoformat()


_AUDIT_KEYS = {
    "model": "model",
    "provider": "provider",
    "feature": "feature",
    "team": "team",
    "customer": "customer",
    "task_type": "task",
    "user": "user",
}


@dataclass(frozen=True)
class DrillDown:
    query: str  # in the F6 query bar's language
    dropped: tuple[str, ...]  # dimensions F6 cannot filter on (untagged rows)


def audit_query_for(
    data: Breakdown, path: Sequence[BreakdownRow], filters: Mapping[str, Key] | None = None
) -> DrillDown:
    """The F6 query that lists the calls behind a row: its dimension values (and its parent's)
    within the breakdown's window."""
    terms: list[str] = []
    dropped: list[str] = []
    since, until = data.since[:19] + "Z", data.until[:19] + "Z"
    chosen = {**dict(filters or data.filters)}
    for dimension, row in zip(data.by, path, strict=False):
        chosen[dimension] = row.value if dimension != "version" else row.label
    for dimension, value in chosen.items():
        if value is None or value == "":
            dropped.append(dimension)
        elif dimension in PERIODS:
            first, last = _period_bounds(dimension, str(value))
            since = max(since, first + "T00:00:00Z")
            until = min(until, _next_day(last) + "T00:00:00Z")
        elif dimension == "prompt":
            terms.append(f'version:"{value}"')
        elif dimension == "version":
            name, _, number = str(value).rpartition(" v")
            terms.append(f'version:"{name}@{number}"' if name else f'version:"{value}"')
        else:
            terms.append(f'{_AUDIT_KEYS[dimension]}:"{value}"')
    terms += [f"since:{since}", f"until:{until}"]
    return DrillDown(" ".join(terms), tuple(dropped))


def _next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()
