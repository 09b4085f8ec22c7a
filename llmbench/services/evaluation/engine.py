"""The evaluation engine: prompt versions × models × cases × repeats, through the gateway.

A run's whole plan is saved in `runs.config` when it is created, so `resume(run_id)` can
rebuild it and run only the cells that have no result row yet (results are unique per cell).
Each cell's result and checks are written as soon as it finishes (see services.eval_cells);
a cancel keeps what finished; provider failures are error cells and the run goes on.

Blocking functions: call them from a thread worker (TUI) or the CLI; the cells run on the
gateway's background event loop. `progress(done, total)` and `cancelled()` are called from
that loop's thread.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from llmbench.config import Settings
from llmbench.core.evaluation.check_spec import JUDGE_KIND, MODEL_GRADED_KINDS, CheckError
from llmbench.core.evaluation.scoreboard import (
    CellRecord,
    GroupStats,
    MigrationReport,
    migration_report,
)
from llmbench.core.evaluation.scoreboard import scoreboard as build_scoreboard
from llmbench.core.evaluation.transform_spec import case_gradings
from llmbench.core.models import Case, PromptVersion
from llmbench.core.prompts.templates import template_of
from llmbench.gateway.client import run_sync
from llmbench.gateway.engine import Gateway
from llmbench.gateway.recorder import AuditRecorder
from llmbench.services.evaluation.cell_grading import (
    CheckGrader,
    JudgeConfig,
    judge_dimensions,
    parse_checks,
)
from llmbench.services.evaluation.cells import Cancelled, Cell, CellRunner, CellWatcher, Progress
from llmbench.services.evaluation.pairwise import judge_run_pairs
from llmbench.services.evaluation.select_best import judge_select_best
from llmbench.store.db import Store
from llmbench.store.evaluation.run_cells import (
    cases_by_id,
    cell_keys,
    cell_records,
    reopen_run,
    run_plan,
)
from llmbench.store.evaluation.runs import create_run, finish_run
from llmbench.store.prompts import versions as prompts_repo

DEFAULT_CONCURRENCY = 10
CALL_TAGS = {"run": "eval"}
PLAN_FORMAT = 1
SECRET_PARAMS = frozenset({"api_key"})

RunStatus = Literal["done", "cancelled"]


class EvalError(ValueError):
    """The run cannot start or resume; the message says why."""


@dataclass(frozen=True)
class EvalPlan:
    """What a run evaluates. Saved (as JSON) in the run so it can be resumed."""

    name: str
    version_ids: tuple[int, ...]
    case_ids: tuple[int, ...]
    models: tuple[str, ...] = ()  # empty: each version's own model (else the default model)
    repeats: int = 1
    checks: tuple[Mapping[str, Any], ...] = ()  # on every case, in the suite's form
    case_checks: Mapping[int, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    # Every case's grading rule ({transform, threshold}, transform_spec's saved form), and the
    # cases' own, which replace it field by field (promptfoo's defaultTest and test options).
    grading: Mapping[str, Any] = field(default_factory=dict)
    case_grading: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)  # over each version's params
    # A case's own request params over those (its `tools` and `tool_choice`, from a suite).
    case_params: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    judge_model: str = ""  # empty: settings.models.judge_model
    judge_dimensions: tuple[Mapping[str, Any], ...] = ()
    judge_params: Mapping[str, Any] = field(default_factory=dict)
    concurrency: int = DEFAULT_CONCURRENCY
    source: str = ""  # the suite file, for people reading the run later
    pairwise: Mapping[str, Any] = field(default_factory=dict)  # eval_pairwise.PairwiseConfig

    def to_config(self) -> dict[str, Any]:
        return {
            "format": PLAN_FORMAT,
            "source": self.source or "eval",
            "version_ids": list(self.version_ids),
            "case_ids": list(self.case_ids),
            "models": list(self.models),
            "repeats": self.repeats,
            "checks": [dict(check) for check in self.checks],
            "case_checks": {
                str(case_id): [dict(check) for check in checks]
                for case_id, checks in self.case_checks.items()
            },
            "grading": dict(self.grading),
            "case_grading": {
                str(case_id): dict(grading) for case_id, grading in self.case_grading.items()
            },
            "params": dict(self.params),
            "case_params": {
                str(case_id): dict(params) for case_id, params in self.case_params.items()
            },
            "judge": {
                "model": self.judge_model,
                "dimensions": list(self.judge_dimensions),
                "params": dict(self.judge_params),
            },
            "concurrency": self.concurrency,
            "pairwise": dict(self.pairwise),
        }

    @classmethod
    def from_config(cls, name: str, config: Mapping[str, Any]) -> EvalPlan:
        if config.get("format") != PLAN_FORMAT or "version_ids" not in config:
            raise EvalError(f"run {name!r} was not made by the evaluation engine")
        judge = config.get("judge") or {}
        return cls(
            name=name,
            version_ids=tuple(config["version_ids"]),
            case_ids=tuple(config["case_ids"]),
            models=tuple(config.get("models") or ()),
            repeats=int(config.get("repeats") or 1),
            checks=tuple(config.get("checks") or ()),
            case_checks={
                int(case_id): tuple(checks)
                for case_id, checks in (config.get("case_checks") or {}).items()
            },
            grading=dict(config.get("grading") or {}),
            case_grading={
                int(case_id): dict(grading)
                for case_id, grading in (config.get("case_grading") or {}).items()
            },
            params=dict(config.get("params") or {}),
            case_params={
                int(case_id): dict(params)
                for case_id, params in (config.get("case_params") or {}).items()
            },
            judge_model=str(judge.get("model") or ""),
            judge_dimensions=tuple(judge.get("dimensions") or ()),
            judge_params=dict(judge.get("params") or {}),
            concurrency=int(config.get("concurrency") or DEFAULT_CONCURRENCY),
            source=str(config.get("source") or ""),
            pairwise=dict(config.get("pairwise") or {}),
        )


@dataclass(frozen=True)
class RunSummary:
    run_id: int
    name: str
    status: RunStatus
    total: int  # cells planned
    finished: int  # cells with a result row, this time and before
    ran: int  # cells run this time
    errors: int  # error cells of the whole run

    def line(self) -> str:
        head = f"run {self.run_id} {self.name}: {self.finished}/{self.total} cells"
        if self.errors:
            head += f", {self.errors} error{'s' if self.errors != 1 else ''}"
        return head + (" (cancelled)" if self.status == "cancelled" else "")


def warm_up_gateway() -> threading.Thread:
    """Load in the background what the first call would wait for (gateway.warmup), while the
    caller reads its suite and writes its cases."""
    from llmbench.gateway.warmup import warm_up

    return warm_up()


def prefetch_gateway() -> threading.Thread:
    """Start importing litellm (seconds) in the background while the caller prepares the run;
    the first call waits for whatever is left of it."""
    from llmbench.gateway.litellm_setup import litellm_module

    thread = threading.Thread(target=litellm_module, name="llmbench-prefetch", daemon=True)
    thread.start()
    return thread


def needs_litellm(store: Store, settings: Settings, plan: EvalPlan) -> bool:
    """Whether the run will call a model through litellm: a model the OpenAI SDK does not
    answer directly, or a judge or embedding model (judged and `similar` checks, a pairwise
    judge), which may be any model. When not, litellm's seconds of import are spared."""
    from llmbench.gateway.openai_direct import handles

    if settings.gateway.openai_transport != "direct" or plan.pairwise:
        return True
    cells = plan_cells(store, settings, plan)
    if any(not handles(cell.model) for cell in cells):
        return True
    kinds = {getattr(check, "kind", "") for cell in cells for check in cell.checks}
    return bool(kinds & {JUDGE_KIND, "similar", *MODEL_GRADED_KINDS})


def create_eval_run(store: Store, plan: EvalPlan, *, baseline_run_id: int | None = None) -> int:
    """Check the plan against the database and save it as a pending run (a "migration" run
    when it is to be compared with a baseline)."""
    _validate(store, plan)
    if baseline_run_id is not None:
        require_run(store, baseline_run_id)
    return store.write(
        lambda db: create_run(
            db,
            "eval" if baseline_run_id is None else "migration",
            name=plan.name,
            config=plan.to_config(),
            status="pending",
            baseline_run_id=baseline_run_id,
        )
    )


def require_run(store: Store, run_id: int) -> None:
    if run_plan(store.read(), run_id) is None:
        raise EvalError(f"no run with id {run_id}")


def run_eval(
    store: Store,
    settings: Settings,
    plan: EvalPlan,
    *,
    baseline_run_id: int | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> RunSummary:
    run_id = create_eval_run(store, plan, baseline_run_id=baseline_run_id)
    return resume(store, settings, run_id, progress=progress, cancelled=cancelled)


def resume(
    store: Store,
    settings: Settings,
    run_id: int,
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    concurrency: int | None = None,
    watcher: CellWatcher | None = None,
) -> RunSummary:
    """Run the cells of `run_id` that have no result yet (all of them for a new run).
    `concurrency` overrides the plan's for this time only; a `watcher` sees the cells start,
    stream and finish (the answers stream when there is one)."""
    db = store.read()
    row = run_plan(db, run_id)
    if row is None:
        raise EvalError(f"no run with id {run_id}")
    plan = EvalPlan.from_config(row.name, row.config)
    cells = plan_cells(store, settings, plan)
    done = cell_keys(db, run_id)
    missing = [cell for cell in cells if cell.key not in done]
    # Case by case across every version × model: a side-by-side view fills row by row, and a
    # cancelled run leaves whole rows to compare.
    case_order = {case_id: index for index, case_id in enumerate(plan.case_ids)}
    missing.sort(key=lambda cell: (case_order.get(cell.case_id or 0, 0), cell.repeat))
    store.write(lambda db: reopen_run(db, run_id))
    gateway = Gateway(AuditRecorder(store), settings)
    judge = JudgeConfig(
        plan.judge_model or settings.models.judge_model,
        judge_dimensions(plan.judge_dimensions),
        dict(plan.judge_params),
    )
    stop = threading.Event()
    grader = CheckGrader(gateway, run_id, judge)
    runner = CellRunner(
        gateway,
        store,
        run_id,
        concurrency=concurrency or plan.concurrency,
        tags=CALL_TAGS,
        grader=grader,
        progress=progress,
        cancelled=lambda: stop.is_set() or (cancelled is not None and cancelled()),
        watcher=watcher,
    )
    pairs_complete = True
    try:
        run_sync(runner.run(missing))
        if len(runner.outcomes) == len(missing):
            # select-best compares a case's outputs: it runs once they are all there.
            pairs_complete = judge_select_best(
                store,
                gateway,
                run_id,
                cells,
                judge,
                concurrency=concurrency or plan.concurrency,
                cancelled=runner.cancelled,
            )
        if plan.pairwise and len(runner.outcomes) == len(missing) and pairs_complete:
            pairs_complete = judge_run_pairs(
                store,
                gateway,
                run_id,
                cells,
                plan.pairwise,
                judge,
                concurrency=concurrency or plan.concurrency,
                cancelled=runner.cancelled,
            )
    except KeyboardInterrupt:
        # ctrl+c: no new cell starts, the ones in flight finish and are kept.
        stop.set()
        run_sync(runner.drained())
        _finish(store, gateway, run_id, "cancelled")
        raise
    except BaseException:
        _finish(store, gateway, run_id, "failed")
        raise
    finally:
        grader.close()
    finished_all = len(runner.outcomes) == len(missing) and pairs_complete
    status: RunStatus = "done" if finished_all else "cancelled"
    _finish(store, gateway, run_id, status)
    records = cell_records(store.read(), run_id)
    return RunSummary(
        run_id=run_id,
        name=row.name,
        status=status,
        total=len(cells),
        finished=len(records),
        ran=len(runner.outcomes),
        errors=sum(not record.ok for record in records),
    )


def run_eval_plan(store: Store, run_id: int) -> EvalPlan:
    """The plan a run was created with (EvalError for a run the engine did not make)."""
    row = run_plan(store.read(), run_id)
    if row is None:
        raise EvalError(f"no run with id {run_id}")
    return EvalPlan.from_config(row.name, row.config)


def run_layout(store: Store, settings: Settings, run_id: int) -> list[Cell]:
    """Every cell the run plans, in order (version, model, case, repeat): what a view lays out
    before, during and after the run."""
    return plan_cells(store, settings, run_eval_plan(store, run_id))


def _finish(store: Store, gateway: Gateway, run_id: int, status: str) -> None:
    gateway.recorder.flush()
    store.write(lambda db: finish_run(db, run_id, status))


def _validate(store: Store, plan: EvalPlan) -> None:
    if not plan.version_ids:
        raise EvalError("pick at least one prompt version")
    if not plan.case_ids:
        raise EvalError("pick at least one case")
    if plan.repeats < 1:
        raise EvalError("repeat must be at least 1")
    if plan.concurrency < 1:
        raise EvalError("concurrency must be at least 1")
    for params in (plan.params, plan.judge_params, *plan.case_params.values()):
        if SECRET_PARAMS & set(params):
            # The plan is saved in the database, where keys never go.
            raise EvalError(
                "api_key does not belong in a suite: set the provider's environment variable"
                " or `llmbench keys set`"
            )
    db = store.read()
    for version_id in plan.version_ids:
        if prompts_repo.get_version(db, version_id) is None:
            raise EvalError(f"no prompt version with id {version_id}")
    found = cases_by_id(db, plan.case_ids)
    lost = [case_id for case_id in plan.case_ids if case_id not in found]
    if lost:
        raise EvalError(f"no case with id {', '.join(map(str, lost[:5]))}")
    try:
        parse_checks(plan.checks, "default")
        for case_id, checks in plan.case_checks.items():
            parse_checks(checks, f"case {case_id}")
        for case_id, case in found.items():
            parse_checks(case.checks, f"case {case_id}")
        case_gradings(plan.grading, plan.case_grading)
    except CheckError as error:
        raise EvalError(str(error)) from None


def plan_cells(store: Store, settings: Settings, plan: EvalPlan) -> list[Cell]:
    """Every cell of the plan, in order: version, model, case, repeat."""
    db = store.read()
    versions: list[PromptVersion] = []
    for version_id in plan.version_ids:
        version = prompts_repo.get_version(db, version_id)
        if version is None:
            raise EvalError(f"prompt version {version_id} no longer exists")
        versions.append(version)
    labels = _version_labels(store, versions)
    cases = cases_by_id(db, plan.case_ids)
    try:
        default_checks = parse_checks(plan.checks, "default")
        case_checks = {
            case_id: parse_checks(checks, f"case {case_id}")
            for case_id, checks in plan.case_checks.items()
        }
        # A case's own checks (saved with it in its dataset) run beside the plan's.
        own_checks = {
            case_id: parse_checks(case.checks, f"case {case_id}") for case_id, case in cases.items()
        }
        default_grading, gradings = case_gradings(plan.grading, plan.case_grading)
    except CheckError as error:
        raise EvalError(str(error)) from None
    cells = []
    for version in versions:
        template = template_of(version)
        params = {**version.params, **plan.params}
        for model in plan.models or (version.model or settings.models.default_models[0],):
            for case_id in plan.case_ids:
                case: Case | None = cases.get(case_id)
                if case is None:
                    raise EvalError(f"case {case_id} no longer exists")
                grading = gradings.get(case_id, default_grading)
                for repeat in range(plan.repeats):
                    cells.append(
                        Cell(
                            model=model,
                            template=template,
                            values=case.vars,
                            # The case's own tools (saved with it), then the suite's for it.
                            params={**params, **case.params, **plan.case_params.get(case_id, {})},
                            version_id=version.id,
                            case_id=case_id,
                            repeat=repeat,
                            expected=case.expected,
                            checks=default_checks
                            + case_checks.get(case_id, ())
                            + own_checks.get(case_id, ()),
                            group=labels[version.id],
                            transform=grading.transform,
                            threshold=grading.threshold,
                        )
                    )
    return cells


def _version_labels(store: Store, versions: Sequence[PromptVersion]) -> dict[int, str]:
    db = store.read()
    labels = {}
    for version in versions:
        prompt = prompts_repo.get_prompt_by_id(db, version.prompt_id)
        labels[version.id] = f"{prompt.name if prompt else '?'}@{version.version}"
    return labels


# -- reports ---------------------------------------------------------------------------------


def run_cells(store: Store, run_id: int) -> list[CellRecord]:
    return cell_records(store.read(), run_id)


def scoreboard(store: Store, run_id: int) -> list[GroupStats]:
    return build_scoreboard(run_cells(store, run_id))


def compare_runs(store: Store, baseline_run_id: int, candidate_run_id: int) -> MigrationReport:
    """The candidate run against the baseline run, paired on the cases both ran."""
    db = store.read()
    for run_id in (baseline_run_id, candidate_run_id):
        if run_plan(db, run_id) is None:
            raise EvalError(f"no run with id {run_id}")
    return migration_report(run_cells(store, baseline_run_id), run_cells(store, candidate_run_id))


def compare_groups(
    store: Store,
    run_id: int,
    baseline: tuple[int | None, str],
    candidate: tuple[int | None, str],
) -> MigrationReport:
    """Within one run: one version × model (the current one) against another (the new one)."""
    cells = run_cells(store, run_id)
    return migration_report(
        [cell for cell in cells if (cell.version_id, cell.model) == baseline],
        [cell for cell in cells if (cell.version_id, cell.model) == candidate],
    )
