"""`llmbench eval`: run an evaluation suite headless, for CI."""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from llmbench.cli.common import (
    USAGE_EXIT,
    cli_settings,
    db_option,
    fail,
    resolve_db,
)
from llmbench.config import Settings

# Gen-0 collections during a run: once per this many allocations (Python's default: 700).
RUN_GC_THRESHOLD = 20_000


@contextlib.contextmanager
def _collector_for_a_run() -> Iterator[None]:
    """What is loaded before the run lives as long as it: the collector need not walk it again,
    and a run allocates fast enough that the default gen-0 threshold fires constantly (7% of
    a 500-cell run's wall time). Put back afterwards, for callers in the same process."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(RUN_GC_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


@click.command("eval")
@click.argument("suite", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--baseline", type=int, help="Compare with this earlier run (its id).")
@click.option(
    "--fail-under",
    default="100%",
    show_default=True,
    help="Least share of cells that must pass: 0.9, 90 or 90%.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the results: .json, .csv or .xml (JUnit).",
)
@click.option("--concurrency", type=click.IntRange(min=1), help="Cells in flight at once.")
@click.option("--resume", "resume_run", type=int, help="Run the missing cells of this run.")
@db_option
@click.pass_context
def eval_command(
    ctx: click.Context,
    suite: Path | None,
    baseline: int | None,
    fail_under: str,
    output: Path | None,
    concurrency: int | None,
    resume_run: int | None,
    db: str | None,
) -> None:
    """Run an evaluation suite (SUITE.yaml) headless, for CI.

    Exit 0 when every cell passes (or --fail-under of them) and no case that passed in the
    --baseline run fails now; 1 when checks fail or a case regressed; 2 for bad input.
    """
    from llmbench.services.evaluation.export import EXPORT_SUFFIXES
    from llmbench.services.evaluation.verdict import parse_rate

    if (suite is None) == (resume_run is None):
        fail("give a suite file, or --resume RUN (not both)", USAGE_EXIT)
    try:
        rate = parse_rate(fail_under)
    except ValueError:
        fail(f"--fail-under: {fail_under!r} is not a pass rate (0.9, 90 or 90%)", USAGE_EXIT)
    if output is not None and output.suffix.lower() not in EXPORT_SUFFIXES:
        fail(f"-o {output}: use a .json, .csv or .xml (JUnit) file", USAGE_EXIT)
    settings = cli_settings()
    from llmbench.services.database import open_for_command

    # Bad input (exit 2) into a database that did not exist leaves no database behind.
    with open_for_command(resolve_db(ctx, db)) as store, _collector_for_a_run():
        code = _run_eval(store, settings, suite, resume_run, baseline, rate, output, concurrency)
        if code == USAGE_EXIT:
            sys.exit(code)
    sys.exit(code)


def _run_eval(
    store: Any,
    settings: Settings,
    suite: Path | None,
    resume_run: int | None,
    baseline: int | None,
    rate: float,
    output: Path | None,
    concurrency: int | None,
) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from llmbench.gateway.client import shutdown_sync
    from llmbench.importers.eval_suite_docs import SuiteError
    from llmbench.services.evaluation.engine import (
        EvalError,
        create_eval_run,
        needs_litellm,
        prefetch_gateway,
        require_run,
        resume,
        run_eval_plan,
        warm_up_gateway,
    )
    from llmbench.services.evaluation.export import write_report
    from llmbench.services.evaluation.suite import prepare_suite
    from llmbench.services.evaluation.verdict import verdict_of

    warm_up_gateway()
    try:
        for run in (baseline, resume_run):
            if run is not None:
                require_run(store, run)
        if suite is not None:
            prepared = prepare_suite(store, suite, concurrency=concurrency)
            for name in prepared.saved_versions:
                click.echo(f"saved a new version of {name}", err=True)
            run_id = create_eval_run(store, prepared.plan, baseline_run_id=baseline)
            plan = prepared.plan
        else:
            assert resume_run is not None
            run_id = resume_run
            plan = run_eval_plan(store, run_id)
        if needs_litellm(store, settings, plan):
            prefetch_gateway()  # seconds of import, beside the run's first writes
    except SuiteError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        return USAGE_EXIT
    except EvalError as error:
        click.echo(f"llmbench: {error}", err=True)
        return USAGE_EXIT
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task(f"run {run_id}", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            summary = resume(store, settings, run_id, progress=advance, concurrency=concurrency)
        except EvalError as error:
            click.echo(f"llmbench: {error}", err=True)
            return USAGE_EXIT
        except KeyboardInterrupt:
            progress.stop()
            kept = f"finished cells are kept: llmbench eval --resume {run_id}"
            click.echo(f"run {run_id} cancelled; {kept}", err=True)
            return 130
        finally:
            shutdown_sync()
    if baseline is None and resume_run is not None:
        from llmbench.store.evaluation.run_cells import run_plan

        row = run_plan(store.read(), run_id)
        baseline = row.baseline_run_id if row else None
    try:
        verdict = verdict_of(store, summary, baseline_run_id=baseline, fail_under=rate)
    except EvalError as error:
        click.echo(f"llmbench: {error}", err=True)
        return USAGE_EXIT
    # CI logs are not terminals: a wide table there keeps model names on one line.
    _print_verdict(Console(width=None if sys.stdout.isatty() else 160), verdict)
    if output is not None:
        run = {
            "id": summary.run_id,
            "name": summary.name,
            "status": summary.status,
            "total": summary.total,
            "finished": summary.finished,
            "errors": summary.errors,
            "pass_rate": verdict.pass_rate,
            "passed": verdict.exit_code == 0,
            "baseline_run_id": baseline,
        }
        try:
            write_report(
                output,
                run=run,
                cells=verdict.cells,
                board=verdict.board,
                migration=verdict.migration,
            )
        except OSError as error:
            click.echo(f"llmbench: cannot write {output}: {error.strerror}", err=True)
            return USAGE_EXIT
    return verdict.exit_code


def _print_verdict(console: Any, verdict: Any) -> None:
    from rich.table import Table

    table = Table(title=verdict.summary.line(), title_justify="left")
    # Golden similarity (ROUGE-L) and the pairwise win rate only when the run has them.
    similar = any(group.mean_similarity is not None for group in verdict.board)
    pairwise = any(group.pairwise_win_rate is not None for group in verdict.board)
    extra = ("similar",) * similar + ("win",) * pairwise
    columns = ("prompt", "model", "pass", "rate", "judge", *extra, "$/case", "p50 ms", "p95 ms")
    for column in (*columns, "err"):
        table.add_column(column, justify="left" if column in ("prompt", "model") else "right")
    for group in verdict.board:
        figures = []
        if similar:
            figures.append(_figure(group.mean_similarity, "{:.2f}"))
        if pairwise:
            figures.append(_figure(group.pairwise_win_rate, "{:.0%}"))
        table.add_row(
            group.version_label or "draft",
            group.model,
            f"{group.passed}/{group.cells}",
            f"{group.pass_rate:.0%}",
            "–" if group.mean_judge_score is None else f"{group.mean_judge_score:.2f}",
            *figures,
            "–" if group.cost_per_case is None else f"{group.cost_per_case:.5f}",
            "–" if group.latency_p50_ms is None else f"{group.latency_p50_ms:.0f}",
            "–" if group.latency_p95_ms is None else f"{group.latency_p95_ms:.0f}",
            str(group.errors),
        )
    console.print(table)
    _print_errors(console, verdict.cells)
    if verdict.migration is not None:
        console.print(verdict.migration.verdict(), markup=False)
    reasons = verdict.reasons()
    status = "FAIL: " + "; ".join(reasons) if reasons else "PASS"
    console.print(f"{status} (pass rate {verdict.pass_rate:.1%})", markup=False)


# Error cells listed under the scoreboard, each with its reason; the rest are in `-o`'s file.
SHOWN_ERRORS = 20
ERROR_REASON_WIDTH = 200


def _print_errors(console: Any, cells: list[Any]) -> None:
    """Every cell the model did not answer, with why: the scoreboard's `err` count alone
    leaves CI logs without the reason."""
    errors = [cell for cell in cells if not cell.ok]
    if not errors:
        return
    console.print(
        f"{len(errors)} cell{'s' if len(errors) != 1 else ''} not answered:", markup=False
    )
    for cell in errors[:SHOWN_ERRORS]:
        reason = " ".join((cell.output or "no reason recorded").split())
        if len(reason) > ERROR_REASON_WIDTH:
            reason = reason[: ERROR_REASON_WIDTH - 1] + "…"
        case = f"case #{cell.case_id}" if cell.case_id is not None else "no case"
        repeat = f" repeat {cell.repeat + 1}" if cell.repeat else ""
        console.print(
            f"  {cell.version_label or 'draft'} × {cell.model}, {case}{repeat}: {reason}",
            markup=False,
            soft_wrap=True,
        )
    if len(errors) > SHOWN_ERRORS:
        console.print(
            f"  … and {len(errors) - SHOWN_ERRORS} more (every cell is in the -o file)",
            markup=False,
        )


def _figure(value: float | None, shape: str) -> str:
    return "–" if value is None else shape.format(value)
