"""Send the editor's unsaved draft to Compare: a small real run of the draft against a saved
version (production, usually) over a few cases and models, recorded like any comparison.

Each cell renders one side's template with one case's values and calls the gateway; the
result row is written as soon as the cell finishes, linked to the audit row of its call, so a
cancelled run keeps every finished cell and the Compare pane shows it like any other run. The
baseline's cells carry its version id; the draft, having none yet, has NULL there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from llmbench.config import Settings
from llmbench.core.models import PromptVersion
from llmbench.core.prompts.templates import Template, TemplateError, template_of
from llmbench.gateway.client import run_sync
from llmbench.gateway.engine import Gateway
from llmbench.gateway.recorder import AuditRecorder
from llmbench.services.evaluation.cells import Cancelled, Cell, CellOutcome, CellRunner, Progress
from llmbench.services.prompts.library import Draft, reconcile_variables
from llmbench.store.db import Store
from llmbench.store.evaluation.runs import create_run, finish_run
from llmbench.store.prompts import versions as prompts_repo

# Cells in flight at once: a handful keeps a comparison quick without hogging a provider's
# quota; the gateway's own per-model limits still apply on top.
CONCURRENCY = 4
# Tells these calls apart in the audit log from the application's own traffic.
CALL_TAGS = {"run": "draft-compare"}

Side = Literal["baseline", "draft"]
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
    run_id = store.write(
        lambda db: create_run(db, "compare", name=name, config=config, status="running")
    )
    gateway = Gateway(AuditRecorder(store), settings)
    templates: dict[Side, Template | TemplateError] = {
        "baseline": template_of(baseline),
        "draft": _draft_template(draft),
    }
    params: dict[Side, Mapping[str, Any]] = {"baseline": baseline.params, "draft": draft.params}
    runnable = [
        Cell(
            model=cell.model,
            template=templates[cell.side],
            values=cell.values,
            params=params[cell.side],
            version_id=baseline.id if cell.side == "baseline" else None,
            case_id=cell.case_id,
            repeat=cell.repeat,
            group=cell.side,
        )
        for cell in cells
    ]
    runner = CellRunner(
        gateway,
        store,
        run_id,
        concurrency=CONCURRENCY,
        tags=CALL_TAGS,
        progress=progress,
        cancelled=cancelled,
    )
    try:
        outcomes = run_sync(runner.run(runnable))
    except BaseException:
        gateway.recorder.flush()
        store.write(lambda db: finish_run(db, run_id, "failed"))
        raise
    status: Literal["done", "cancelled"] = "cancelled" if len(outcomes) < len(cells) else "done"
    gateway.recorder.flush()
    store.write(lambda db: finish_run(db, run_id, status))
    return DraftComparison(
        run_id=run_id,
        name=name,
        status=status,
        cells=len(outcomes),
        total=len(cells),
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
    sides: tuple[Side, ...] = ("baseline", "draft")
    return [
        _Cell(side, model, case_id, values, repeat)
        for case_id, values, repeat in inputs
        for model in models
        for side in sides
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
        dict(draft.sections), variables, examples=draft.examples, few_shot_k=draft.few_shot_k
    )
