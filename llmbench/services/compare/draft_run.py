"""Send the editor's unsaved draft to Compare: a small real run of the draft against a saved
version (production, usually) over a few cases and models, recorded like any comparison.

Each cell renders one side's template with one case's values and calls the gateway; the
result row is written as soon as the cell finishes, linked to the audit row of its call, so a
cancelled run keeps every finished cell and the Compare pane shows it like any other run. The
baseline's cells carry its version id; the draft, having none yet, has NULL there.

The run is created first (`create_draft_comparison`: its config holds the draft, the baseline,
the models and the cases), then run (`run_draft`), so the editor can open it in Compare at once
and watch it stream; `draft_cells` lays the cells out again from the config, for the board and
for resuming a cancelled run. The baseline is picked first: its columns come first and the
migration report measures the draft (the candidate) against it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from llmbench.config import Settings
from llmbench.core.models import Example, PromptVersion, Variable
from llmbench.core.prompts.templates import Template, TemplateError, template_of
from llmbench.gateway.client import run_sync
from llmbench.gateway.engine import Gateway
from llmbench.gateway.recorder import AuditRecorder
from llmbench.services.evaluation.cells import (
    Cancelled,
    Cell,
    CellOutcome,
    CellRunner,
    CellWatcher,
    Progress,
)
from llmbench.services.prompts.library import Draft, reconcile_variables
from llmbench.store.db import Store
from llmbench.store.evaluation.run_cells import cases_by_id, cell_keys, reopen_run, run_plan
from llmbench.store.evaluation.runs import create_run, finish_run
from llmbench.store.prompts import versions as prompts_repo

# Cells in flight at once: a handful keeps a comparison quick without hogging a provider's
# quota; the gateway's own per-model limits still apply on top.
CONCURRENCY = 4
# Tells these calls apart in the audit log from the application's own traffic.
CALL_TAGS = {"run": "draft-compare"}

Side = Literal["baseline", "draft"]
SIDES: tuple[Side, ...] = ("baseline", "draft")  # the baseline first: it is what is compared to
Case = tuple[int | None, Mapping[str, object]]


class DraftCompareError(ValueError):
    """The comparison cannot start; the message says why."""


@dataclass(frozen=True)
class SideSummary:
    """One side's figures over its finished cells, for the notification."""

    cells: int
    errors: int
    mean_latency_ms: float | None  # over the cells the model answered
    prompt_tokens: int
    completion_tokens: int
    cost: float  # USD, of the priced calls
    unpriced: int  # answered calls with no known price, left out of `cost`

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class DraftComparison:
    run_id: int
    name: str
    status: Literal["done", "cancelled"]
    cells: int  # finished cells, both sides
    total: int  # cells planned
    errors: int
    baseline: SideSummary
    draft: SideSummary

    def line(self) -> str:
        """What Compare's run screen says when the run ends (as it does for any run)."""
        return self.summary_line()

    def summary_line(self) -> str:
        """One line for a notification."""
        head = f"{self.name}: {self.cells}/{self.total} cells"
        if self.errors:
            head += f", {self.errors} error{'s' if self.errors != 1 else ''}"
        if self.status == "cancelled":
            head += " (cancelled)"
        return f"{head} · baseline {_figures(self.baseline)} · draft {_figures(self.draft)}"


def _figures(side: SideSummary) -> str:
    latency = f"{side.mean_latency_ms:.0f} ms" if side.mean_latency_ms is not None else "– ms"
    cost = f"${side.cost:.4f}" + (f" +{side.unpriced} unpriced" if side.unpriced else "")
    return f"{latency}, {side.tokens:,} tok, {cost}"


@dataclass(frozen=True)
class _Cell:
    side: Side
    model: str
    case_id: int | None
    values: Mapping[str, object]
    repeat: int


def compare_draft(
    store: Store,
    settings: Settings,
    prompt_id: int,
    draft: Draft,
    *,
    baseline_version_id: int,
    cases: Sequence[Case],
    models: Sequence[str] | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> DraftComparison:
    """Run the draft and the baseline version over `cases` × `models` and record it as a
    "compare" run. Blocking: call it from a thread worker. `progress(done, total)` and
    `cancelled()` are called from the gateway's event-loop thread (use call_from_thread to
    touch widgets); once `cancelled()` is true no new cell starts, the cells in flight finish
    and the run ends "cancelled" with them. Provider failures become error cells."""
    run_id = create_draft_comparison(
        store, settings, prompt_id, draft, baseline_version_id=baseline_version_id,
        cases=cases, models=models,
    )  # fmt: skip
    return run_draft(store, settings, run_id, progress=progress, cancelled=cancelled)


def create_draft_comparison(
    store: Store,
    settings: Settings,
    prompt_id: int,
    draft: Draft,
    *,
    baseline_version_id: int,
    cases: Sequence[Case],
    models: Sequence[str] | None = None,
) -> int:
    """Record the comparison as a running "compare" run, nothing run yet; its id."""
    db = store.read()
    prompt = prompts_repo.get_prompt_by_id(db, prompt_id)
    if prompt is None:
        raise DraftCompareError(f"no prompt with id {prompt_id}")
    baseline = prompts_repo.get_version(db, baseline_version_id)
    if baseline is None or baseline.prompt_id != prompt_id:
        raise DraftCompareError(f"version {baseline_version_id} is not a version of {prompt.name}")
    if not cases:
        raise DraftCompareError("pick a test case or type values to compare with")
    chosen_models = _models(models, draft, baseline, settings)
    cells = _cells(cases, chosen_models)
    name = f"{prompt.name}: draft vs v{baseline.version}"
    config = _config(prompt_id, baseline, draft, chosen_models, cells)
    return store.write(
        lambda db: create_run(db, "compare", name=name, config=config, status="running")
    )


def is_draft_run(config: Mapping[str, Any]) -> bool:
    return config.get("source") == "draft" and "baseline_version_id" in config


def draft_cells(store: Store, run_id: int) -> list[Cell]:
    """Every cell of a draft comparison, from its saved config: the baseline's first."""
    db = store.read()
    plan = run_plan(db, run_id)
    if plan is None or not is_draft_run(plan.config):
        raise DraftCompareError(f"run {run_id} is not a comparison of an editor's draft")
    config = plan.config
    baseline = prompts_repo.get_version(db, int(config["baseline_version_id"]))
    if baseline is None:
        raise DraftCompareError(f"version {config['baseline_version_id']} no longer exists")
    saved = config.get("draft") or {}
    draft = Draft(
        sections=dict(saved.get("sections") or {}),
        variables=tuple(Variable.from_json(v) for v in saved.get("variables") or ()),
        model=str(saved.get("model") or ""),
        params=dict(saved.get("params") or {}),
        examples=tuple(Example.from_json(e) for e in saved.get("examples") or ()),
        few_shot_k=saved.get("few_shot_k"),
        cacheable=tuple(str(name) for name in saved.get("cacheable") or ()),
    )
    stored_cases = cases_by_id(
        db, [int(c["case_id"]) for c in config.get("cases", ()) if c.get("case_id") is not None]
    )
    inputs: list[tuple[int | None, Mapping[str, object], int]] = []
    for case in config.get("cases", ()):
        case_id = case.get("case_id")
        if case_id is None:
            inputs.append((None, dict(case.get("values") or {}), int(case.get("repeat", 0))))
        elif int(case_id) in stored_cases:
            inputs.append((int(case_id), stored_cases[int(case_id)].vars, 0))
    models = [str(model) for model in config.get("models", ())]
    templates: dict[Side, Template | TemplateError] = {
        "baseline": template_of(baseline),
        "draft": _draft_template(draft),
    }
    params: dict[Side, Mapping[str, Any]] = {"baseline": baseline.params, "draft": draft.params}
    return [
        Cell(
            model=model,
            template=templates[side],
            values=values,
            params=params[side],
            version_id=baseline.id if side == "baseline" else None,
            case_id=case_id,
            repeat=repeat,
            group=side,
        )
        for side in SIDES
        for model in models
        for case_id, values, repeat in inputs
    ]


def run_draft(
    store: Store,
    settings: Settings,
    run_id: int,
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    watcher: CellWatcher | None = None,
) -> DraftComparison:
    """Run the cells of a draft comparison that have no result yet (all of them at first), a
    case at a time across both sides; `watcher` sees them start, stream and finish."""
    plan = run_plan(store.read(), run_id)
    if plan is None:
        raise DraftCompareError(f"no run with id {run_id}")
    cells = draft_cells(store, run_id)
    done = cell_keys(store.read(), run_id)
    missing = [cell for cell in cells if cell.key not in done]
    # Row by row: both sides of a case finish together, so a cancelled run leaves pairs.
    order = {
        (c.case_id, c.repeat): i for i, c in enumerate(c for c in cells if c.group == "baseline")
    }
    missing.sort(key=lambda cell: order.get((cell.case_id, cell.repeat), 0))
    store.write(lambda db: reopen_run(db, run_id))
    gateway = Gateway(AuditRecorder(store), settings)
    runner = CellRunner(
        gateway,
        store,
        run_id,
        concurrency=CONCURRENCY,
        tags=CALL_TAGS,
        progress=progress,
        cancelled=cancelled,
        watcher=watcher,
    )
    try:
        outcomes = run_sync(runner.run(missing))
    except BaseException:
        gateway.recorder.flush()
        store.write(lambda db: finish_run(db, run_id, "failed"))
        raise
    status: Literal["done", "cancelled"] = "cancelled" if len(outcomes) < len(missing) else "done"
    gateway.recorder.flush()
    store.write(lambda db: finish_run(db, run_id, status))
    return DraftComparison(
        run_id=run_id,
        name=plan.name,
        status=status,
        cells=len(outcomes),
        total=len(missing),
        errors=sum(not outcome.answer.ok for outcome in outcomes),
        baseline=_summary([o for o in outcomes if o.cell.group == "baseline"]),
        draft=_summary([o for o in outcomes if o.cell.group == "draft"]),
    )


def _models(
    models: Sequence[str] | None, draft: Draft, baseline: PromptVersion, settings: Settings
) -> list[str]:
    if models:
        chosen = list(dict.fromkeys(model.strip() for model in models if model.strip()))
        if chosen:
            return chosen
    return [draft.model.strip() or baseline.model or settings.models.default_models[0]]


def _cells(cases: Sequence[Case], models: Sequence[str]) -> list[_Cell]:
    """Every side × model × case once. A saved case counts once however often it is passed;
    typed values have no case id, and the draft's cells no version id, and SQLite's UNIQUE
    takes NULLs as distinct, so `repeat` numbers the typed inputs to keep each cell unique."""
    seen: set[int] = set()
    inputs: list[tuple[int | None, Mapping[str, object], int]] = []
    typed = 0
    for case_id, values in cases:
        if case_id is None:
            inputs.append((None, dict(values), typed))
            typed += 1
        elif case_id not in seen:
            seen.add(case_id)
            inputs.append((case_id, dict(values), 0))
    return [
        _Cell(side, model, case_id, values, repeat)
        for case_id, values, repeat in inputs
        for model in models
        for side in SIDES
    ]


def _jsonable(value: object) -> Any:
    return json.loads(json.dumps(value, default=str))


def _config(
    prompt_id: int,
    baseline: PromptVersion,
    draft: Draft,
    models: Sequence[str],
    cells: Sequence[_Cell],
) -> dict[str, Any]:
    cases = []
    for cell in cells:
        if cell.side != "baseline" or cell.model != models[0]:
            continue
        case: dict[str, Any] = {"case_id": cell.case_id, "repeat": cell.repeat}
        if cell.case_id is None:  # typed in the editor: kept, as no case row holds them
            case["values"] = _jsonable(cell.values)
        cases.append(case)
    return {
        "source": "draft",
        "prompt_id": prompt_id,
        "baseline_version_id": baseline.id,
        "baseline_version": baseline.version,
        "draft": {
            "sections": dict(draft.sections),
            "variables": [variable.to_json() for variable in draft.variables],
            "model": draft.model,
            "params": _jsonable(dict(draft.params)),
            "examples": [example.to_json() for example in draft.examples],
            "few_shot_k": draft.few_shot_k,
            "cacheable": list(draft.marks()),
        },
        "models": list(models),
        "cases": cases,
    }


def _summary(outcomes: Sequence[CellOutcome]) -> SideSummary:
    answered = [outcome.answer for outcome in outcomes if outcome.answer.ok]
    latencies = [o.latency_ms for o in answered if o.latency_ms is not None]
    return SideSummary(
        cells=len(outcomes),
        errors=len(outcomes) - len(answered),
        mean_latency_ms=sum(latencies) / len(latencies) if latencies else None,
        prompt_tokens=sum(o.prompt_tokens for o in answered),
        completion_tokens=sum(o.completion_tokens for o in answered),
        cost=sum(o.cost for o in answered if o.cost is not None),
        unpriced=sum(o.cost is None for o in answered),
    )


def _draft_template(draft: Draft) -> Template | TemplateError:
    """The draft as preview_draft renders it, or the syntax error every draft cell reports."""
    try:
        variables = reconcile_variables(draft.sections, draft.variables, "untrusted")
    except TemplateError as error:
        return error
    return Template(
        dict(draft.sections),
        variables,
        examples=draft.examples,
        few_shot_k=draft.few_shot_k,
        cacheable=draft.marks(),  # the draft is sent as the saved version would be
    )
