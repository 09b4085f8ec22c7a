"""Every model the user configured or used, with its facts and what this database measured of
it: calls, failure rate, cost, latency p50/p95, and evaluation pass rate and judge score,
overall and per prompt.

A model is *configured* when the config names it ([models], [model."…"] and its fallbacks,
[prices."…"], a route's model or arms), when the database names it (the prices table, a stored
route, a prompt version's model), and *used* when calls or evaluation cells name it. The
built-in offline models are always listed.

Latency percentiles are over answered calls (status ok) of the whole log; a log of more than
`sample_limit` calls is read as an even sample of it (as the Monitor reads a big window), and
the overview says so. Counts, failures and cost are exact.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from llmbench.builtin_models.simulator import SIMULATOR_MODELS
from llmbench.config import Settings
from llmbench.core.stats import percentile
from llmbench.core.traffic.routing import Route, RouteError
from llmbench.gateway.model_table import bundled_model_table
from llmbench.services.models.facts import ModelFacts, model_facts
from llmbench.store import models as models_repo
from llmbench.store import monitor as monitor_repo
from llmbench.store.costs.prices import load_price_table
from llmbench.store.db import Store
from llmbench.store.routes import load_routes

SAMPLE_LIMIT = 20_000
NO_PROMPT = models_repo.NO_PROMPT


@dataclass(frozen=True)
class Measured:
    """What this database measured of a model (or of a model on one prompt)."""

    calls: int = 0
    failed: int = 0
    """Calls that ended in an error, a timeout or a rate limit."""
    cost: float = 0.0
    latency_p50: float | None = None
    latency_p95: float | None = None
    cells: int = 0
    """Evaluation cells (comparisons and eval suites)."""
    passed: int = 0
    judge_score: float | None = None
    """Mean judge score of the judged cells, 0..1."""
    judged: int = 0

    @property
    def error_rate(self) -> float | None:
        return self.failed / self.calls if self.calls else None

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.cells if self.cells else None


@dataclass(frozen=True)
class PromptFigures:
    prompt: str
    """The prompt's name; NO_PROMPT for calls and cells of no saved prompt version."""
    measured: Measured


@dataclass(frozen=True)
class ModelEntry:
    name: str
    sources: tuple[str, ...]
    """Why it is listed: "built-in", "config", "route", "price", "prompt", "calls", "runs"."""
    facts: ModelFacts
    measured: Measured
    prompts: tuple[PromptFigures, ...] = ()
    """Per prompt, most calls first."""


@dataclass(frozen=True)
class ModelsOverview:
    models: tuple[ModelEntry, ...]
    latency_calls: int
    """Calls read for the latency percentiles."""
    latency_exact: bool
    """False when the percentiles come from an even sample of a big log."""
    total_calls: int
    table_found: bool
    """Whether litellm's model table was found (not installed: no context windows)."""
    problems: tuple[str, ...] = field(default=())

    def entry(self, model: str) -> ModelEntry | None:
        return next((entry for entry in self.models if entry.name == model), None)


def _route_models(routes: Iterable[Route]) -> list[str]:
    models = []
    for route in routes:
        models += [route.model] if route.model else []
        models += [arm.model for arm in route.arms if arm.model]
    return models


def _configured(settings: Settings) -> dict[str, list[str]]:
    """Models the config names, with the source each counts under."""
    named: dict[str, list[str]] = defaultdict(list)
    config = [*settings.models.default_models, settings.models.judge_model]
    config.append(settings.models.embedding_model)
    for model, options in settings.model.items():
        config += [model, *options.fallbacks]
    for model in config:
        if model:  # an unset setting (embedding_model = "") names no model
            named[model].append("config")
    for model in settings.prices:
        named[model].append("price")
    for model in _route_models(settings.routes):
        named[model].append("route")
    return named


def _latencies(store: Store, limit: int) -> tuple[dict[str, tuple[float | None, ...]], int, bool]:
    """p50 and p95 of answered calls per model, how many calls were read, and whether all."""
    db = store.read()
    span = models_repo.log_span(db)
    if span is None:
        return {}, 0, True
    window = monitor_repo.window_calls(db, span[0], span[1], limit)
    by_model: dict[str, list[float]] = defaultdict(list)
    for row in window.rows:
        model, status, latency = row[1], row[2], row[3]
        if status == "ok" and latency is not None:
            by_model[model].append(latency)
    figures = {}
    for model, values in by_model.items():
        values.sort()
        figures[model] = (percentile(values, 0.5), percentile(values, 0.95))
    return figures, len(window.rows), window.exact


def models_overview(
    store: Store,
    settings: Settings,
    *,
    day: str,
    also: Iterable[str] = (),
    sample_limit: int = SAMPLE_LIMIT,
) -> ModelsOverview:
    """Every model configured or used (and those of `also`), priced as of `day` (YYYY-MM-DD):
    the most used first."""
    db = store.read()
    sources = _configured(settings)
    problems = []
    try:
        for model in _route_models(load_routes(db)):
            sources[model].append("route")
    except RouteError as error:  # a row edited by hand: the view still opens, and says so
        problems.append(f"stored routes: {error}")
    for model in models_repo.priced_models(db):
        sources[model].append("price")
    for model in models_repo.version_models(db):
        sources[model].append("prompt")
    for model in SIMULATOR_MODELS:
        sources[model].insert(0, "built-in")
    for model in also:
        sources.setdefault(model, [])

    calls = models_repo.call_totals(db)
    cells = models_repo.cell_totals(db)
    for model in dict.fromkeys(row.model for row in calls if row.prompt is None):
        sources[model].append("calls")
    for model in dict.fromkeys(row.model for row in cells if row.prompt is None):
        sources[model].append("runs")

    latencies, read, exact = _latencies(store, sample_limit)
    table = bundled_model_table()
    facts = model_facts(
        sources,
        table=table,
        stored_prices=load_price_table(db),
        configured_prices=settings.prices,
        day=day,
    )
    measured = _measured(calls, cells)
    entries = []
    for model, named in sources.items():
        p50, p95 = latencies.get(model, (None, None))
        overall = measured.get((model, None), Measured())
        entries.append(
            ModelEntry(
                name=model,
                sources=tuple(dict.fromkeys(named)),
                facts=facts[model],
                measured=replace(overall, latency_p50=p50, latency_p95=p95),
                prompts=_per_prompt(model, measured),
            )
        )
    entries.sort(key=lambda entry: (-entry.measured.calls, -entry.measured.cells, entry.name))
    return ModelsOverview(
        models=tuple(entries),
        latency_calls=read,
        latency_exact=exact,
        total_calls=sum(row.calls for row in calls if row.prompt is None),
        table_found=bool(table),
        problems=tuple(problems),
    )


def _measured(
    calls: list[models_repo.CallTotals], cells: list[models_repo.CellTotals]
) -> dict[tuple[str, str | None], Measured]:
    """Figures per (model, prompt); prompt None is the model over every prompt."""
    found: dict[tuple[str, str | None], Measured] = defaultdict(Measured)
    for call in calls:
        key = (call.model, call.prompt)
        found[key] = replace(found[key], calls=call.calls, failed=call.failed, cost=call.cost)
    for cell in cells:
        key = (cell.model, cell.prompt)
        found[key] = replace(
            found[key],
            cells=cell.cells,
            passed=cell.passed,
            judge_score=cell.judge_score,
            judged=cell.judged,
        )
    return dict(found)


def _per_prompt(
    model: str, measured: dict[tuple[str, str | None], Measured]
) -> tuple[PromptFigures, ...]:
    rows = [
        PromptFigures(prompt, figures)
        for (name, prompt), figures in measured.items()
        if name == model and prompt is not None
    ]
    # Saved prompts by use (calls, then cells), the calls of no saved prompt last.
    rows.sort(
        key=lambda row: (row.prompt == NO_PROMPT, -row.measured.calls, -row.measured.cells,
                         row.prompt)
    )  # fmt: skip
    return tuple(rows)
