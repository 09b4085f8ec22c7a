"""Build the demo database: realistic prompts, datasets, runs, grades and a month of calls.

All-or-nothing: the file is built beside the target under a temporary name, in one transaction
on a connection of its own (store.bulk_load.private_file: no write-ahead log, one sync at the
end), and renamed onto the target only once it is complete. The calls are drawn, sealed and
written a slice at a time (demo.call_stream, demo.draw_process), their indexes, rollups and
search index built once at the end (store.bulk_load). A failure at any point leaves no target
file (or, with replace=True, the old one untouched).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmbench.demo import content as demo_content
from llmbench.demo import media_call, optimize_demo, optimize_runs
from llmbench.demo.call_stream import SLICE_CALLS, CallStream
from llmbench.demo.consistency import save_days
from llmbench.demo.content import DemoContent
from llmbench.demo.draw_process import DrawnElsewhere, DrawTask, SealedSlice, Sealing, sealed_slices
from llmbench.demo.heap import release_free_memory
from llmbench.gateway.chain_head import record_head
from llmbench.gateway.chain_key import load_chain_key
from llmbench.store import bulk_load
from llmbench.store import datasets as datasets_repo
from llmbench.store import meta as meta_repo
from llmbench.store.audit import calls as calls_repo
from llmbench.store.audit import log as audit_repo
from llmbench.store.costs import prices as prices_repo
from llmbench.store.db import StoreError, open_db
from llmbench.store.evaluation import runs as runs_repo
from llmbench.store.grading import grades as grades_repo
from llmbench.store.prompts import versions as prompts_repo

if TYPE_CHECKING:
    from llmbench.store.db import Database

Progress = Callable[[int, int], None]
# From this many cores a large demo is drawn, sealed and written by three processes.
SEALING_PROCESS_MIN_CORES = 3
_INSERT_CHUNK = 2000
# The meta key that marks a file as a demo, which is what makes replacing it safe.
DEMO_MARK = "origin"


class DemoExists(StoreError):
    """The target file exists and replace was not asked for."""


@dataclass(frozen=True)
class DemoSummary:
    path: Path
    prompts: int
    versions: int
    label_moves: int
    notes: int
    datasets: int
    cases: int
    runs: int
    results: int
    checks: int
    rubrics: int
    grades: int
    calls: int
    total_cost: float
    first_call: str | None
    last_call: str | None
    seconds: float

    def describe(self) -> str:
        window = f" from {self.first_call[:10]} to {self.last_call[:10]}" if self.first_call else ""
        return "\n".join(
            (
                f"  {self.prompts} prompts with {self.versions} versions, "
                f"{self.label_moves} label moves and {self.notes} notes",
                f"  {self.datasets} datasets with {self.cases} cases",
                f"  {self.runs} comparison runs with {self.results} results and "
                f"{self.checks} checks",
                f"  {self.grades} grades on {self.rubrics} "
                f"{'rubric' if self.rubrics == 1 else 'rubrics'}",
                f"  {self.calls:,} calls{window}, ${self.total_cost:,.2f} in total",
                f"  built in {self.seconds:.1f} s",
            )
        )


def build_demo(
    path: str | os.PathLike[str],
    *,
    seed: int = 7,
    calls: int = 20_000,
    days: int = 30,
    now: datetime | None = None,
    progress: Progress | None = None,
    replace: bool = False,
    slices: int = SLICE_CALLS,
) -> DemoSummary:
    """Write a demo database to `path`. Same seed, `now` and `slices`, same content.

    `calls` is the story's production and run calls; the optimizer's demo prompt adds its own
    on top (optimize_demo.calls_for: 900 at the default size), merged in time order.

    The calls are generated and written a slice of `slices` production calls at a time, in one
    transaction, so memory holds one slice; beyond one slice a second process draws them while
    this one seals and writes them (with three cores or more, a third process seals them:
    demo.draw_process). `progress(done, total)` counts calls, half for generating them and
    half for writing them; it is called in the calling thread.
    """
    started = time.perf_counter()
    target = Path(path).expanduser()
    if target.is_dir():
        raise StoreError(f"{target} is a folder, not a database file")
    if target.exists():
        if not replace:
            raise DemoExists(f"{target} already exists; rebuild it with --rebuild (replace=True)")
        if target.stat().st_size and meta_repo.peek_meta(target, DEMO_MARK) != "demo":
            raise DemoExists(f"{target} is not a demo database; refusing to replace it")
    # Progress counts calls: half of the bar is generating them, half writing them.
    expected = max(calls, demo_content.run_call_count())
    tracker = _Progress(progress, expected)
    content, stream = demo_content.plan(
        seed=seed, calls=calls, days=days, now=now, progress=tracker.generated, slice_calls=slices
    )
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # a new data folder is private
    building = target.with_name(f".{target.name}.{os.getpid()}.building")
    _remove_database(building)
    try:
        open_db(building).close()  # created and migrated
        # Written through a connection of its own, in one transaction: the file is private
        # until renamed, so it needs neither the write-ahead log nor a sync per commit.
        with bulk_load.private_file(building) as db:
            chain_key = load_chain_key(audit_repo.database_id(db))
            task = DrawTask(seed, calls, days, stream.clock.now, slices)
            counts = _write(db, content, stream, task, tracker, chain_key)
        store = open_db(building)
        try:
            record_head(store, chain_key)  # beside the key: a cut tail shows from the start
        finally:
            store.close()
        if Path(f"{building}-wal").exists():
            raise StoreError(f"{building}: the write-ahead log was not checkpointed")
        if replace:
            _remove_database(target, keep_main=True)
        os.replace(building, target)
    except BaseException:
        _remove_database(building)
        raise
    return DemoSummary(path=target, seconds=round(time.perf_counter() - started, 3), **counts)


def _remove_database(path: Path, *, keep_main: bool = False) -> None:
    """Delete a database file's -wal and -shm (and the file itself unless keep_main)."""
    names = [f"{path}-wal", f"{path}-shm", f"{path}-journal"]
    if not keep_main:
        names.append(str(path))
    for name in names:
        with suppress(FileNotFoundError):
            os.remove(name)


class _Progress:
    """Half of the bar for the calls generated, half for the calls written."""

    def __init__(self, report: Progress | None, total: int) -> None:
        self.report, self.total = report, total
        self.made = self.written = 0

    def generated(self, done: int, _of: int) -> None:
        self.made = min(done, self.total)
        self._tell()

    def wrote(self, count: int) -> None:
        self.written = min(self.written + count, self.total)
        self._tell()

    def finished(self) -> None:
        if self.report:
            self.report(self.total, self.total)

    def _tell(self) -> None:
        if self.report:
            self.report((self.made + self.written) // 2, self.total)


def _write(
    db: Database,
    content: DemoContent,
    stream: CallStream,
    task: DrawTask,
    tracker: _Progress,
    chain_key: bytes,
) -> dict[str, Any]:
    meta_repo.set_meta(db, DEMO_MARK, "demo")
    meta_repo.set_meta(db, "demo_seed", str(stream.seed))
    meta_repo.set_meta(db, "demo_now", content.now)
    prices_repo.set_prices(db, content.prices)
    version_ids = _write_prompts(db, content)
    case_ids = _write_datasets(db, content)
    content, bake_off = optimize_runs.with_bake_off(content, task.seed, task.days)
    extract = _optimizer_calls(db, content, task, version_ids) + bake_off
    run_ids = {
        run.key: runs_repo.create_run(
            db,
            "compare",
            name=run.name,
            config={
                **run.config,
                "version_ids": [version_ids[(run.prompt, number)] for number in run.versions],
                "dataset_id": case_ids[run.dataset][0],
            },
            status="running",
            created_at=run.created_at,
        )
        for run in content.runs
    }
    # Nothing else appends to `calls` in this transaction: the calls are sealed from its end.
    point = audit_repo.sealing_point(db, chain_key)
    sealing = Sealing(chain_key, point, version_ids, run_ids, extract)
    if stream.parts > 1:  # drawn by a second process (sealed by a third) while this one writes
        apart = sealing_apart()
        with DrawnElsewhere(
            replace(task, sealing=sealing if apart else None), tracker.generated
        ) as drawn:
            slices = drawn.chunks() if apart else sealed_slices(drawn.chunks(), sealing)
            call_ids = _write_calls(db, slices, tracker)
        days = drawn.days
    else:
        call_ids = _write_calls(db, sealed_slices(stream.chunks(), sealing), tracker)
        days = stream.consistency.finish()
    save_days(db, days, content.now)  # measured as the calls were drawn, before they were sealed
    result_ids = _write_results(db, content, version_ids, case_ids, run_ids, call_ids)
    rubric = content.rubric
    rubric_id = grades_repo.create_rubric(
        db,
        rubric.name,
        rubric.dimensions,
        description=rubric.description,
        created_at=rubric.created_at,
    )
    grades_repo.add_grades(
        db,
        (
            grades_repo.NewGrade(
                rubric_id=rubric_id,
                reviewer=grade.reviewer,
                scores=grade.scores,
                verdict=grade.verdict,
                note=grade.note,
                seconds=grade.seconds,
                result_id=result_ids[grade.run_key][grade.result_index],
                created_at=grade.created_at,
            )
            for grade in content.grades
        ),
    )
    tracker.finished()
    return _counts(db)


def sealing_apart() -> bool:
    """Whether a large demo's calls are sealed by a process of their own: only where three
    cores can run the three processes. On two, the sealing process takes cores from the
    drawing one, the longest of the three: 1,000,000 calls took 150 s that way against 110 s
    sealed by the writing process (2 cores, load about 2.5)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cores or 1) >= SEALING_PROCESS_MIN_CORES


def _optimizer_calls(
    db: Database, content: DemoContent, task: DrawTask, version_ids: dict[tuple[str, int], int]
) -> list[dict[str, Any]]:
    """The optimizer's demo prompt and dataset, written after the story's, and its calls, on
    top of the story's (whose traffic stays as drawn), to be merged into the month in time
    order and sealed with the rest."""
    version_id = optimize_demo.add_prompt(db, content.now, task.days, task.seed)
    version_ids[(optimize_demo.NAME, 1)] = version_id
    count = optimize_demo.calls_for(task.calls)
    rows = optimize_demo.draw_calls(db, version_id, content.now, task.days, task.seed, count)
    for row in rows:
        row["prompt_version"], row["run"] = (optimize_demo.NAME, 1), None
    return rows


def _write_prompts(db: Database, content: DemoContent) -> dict[tuple[str, int], int]:
    version_ids: dict[tuple[str, int], int] = {}
    for prompt in content.prompts:
        prompt_id = prompts_repo.create_prompt(
            db,
            prompt.name,
            description=prompt.description,
            tags=prompt.tags,
            created_at=prompt.created_at,
        )
        for version in prompt.versions:
            version_ids[(prompt.name, version.number)] = prompts_repo.add_version(
                db,
                prompt_id,
                version.sections,
                variables=version.variables,
                model=version.model,
                params=version.params,
                author=version.author,
                message=version.message,
                parent_id=(
                    None if version.parent is None else version_ids[(prompt.name, version.parent)]
                ),
                created_at=version.created_at,
                cacheable=version.cacheable,
            )
        for move in sorted(prompt.label_moves, key=lambda item: item.moved_at):
            prompts_repo.set_label(
                db,
                prompt_id,
                move.label,
                version_ids[(prompt.name, move.to_version)],
                moved_by=move.moved_by,
                moved_at=move.moved_at,
            )
        for note in prompt.notes:
            prompts_repo.add_note(
                db,
                prompt_id,
                note.kind,
                note.text,
                version_id=(
                    None if note.version is None else version_ids[(prompt.name, note.version)]
                ),
                author=note.author,
                created_at=note.created_at,
            )
    return version_ids


def _write_datasets(db: Database, content: DemoContent) -> dict[str, list[int]]:
    """Dataset name -> [dataset id, case ids...]."""
    found: dict[str, list[int]] = {}
    for dataset in content.datasets:
        dataset_id = datasets_repo.create_dataset(
            db, dataset.name, description=dataset.description, created_at=dataset.created_at
        )
        case_ids = datasets_repo.add_cases(
            db,
            dataset_id,
            (
                datasets_repo.NewCase(
                    vars=case.vars,
                    expected=case.expected,
                    tags=case.tags,
                    source=case.source,
                    created_at=case.created_at,
                )
                for case in dataset.cases
            ),
        )
        found[dataset.name] = [dataset_id, *case_ids]
    return found


def _write_calls(db: Database, slices: Iterator[SealedSlice], tracker: _Progress) -> dict[str, int]:
    """Insert every call, sealed in time order, a slice at a time as the stream draws it, with
    the indexes, rollups and search index built once at the end; returns request_id -> call id
    for the runs' calls.

    Every INSERT holds the same number of rows (the last excepted): the rows a slice leaves
    over a whole statement go in with the next slice's. Each count of rows is a statement of
    its own in the connection's cache (up to 128 kept, each up to a megabyte of SQLite's
    memory for 256 rows), so a slice's odd tail made a new one per slice: SQLite's memory in
    the writing process grew by 3 MB every 100,000 calls (issue #21). Each slice's freed
    memory is handed back to the system (demo.heap) before the next arrives."""
    run_call_ids: dict[str, int] = {}
    with_parts: list[dict[str, Any]] = []
    step = audit_repo.rows_per_statement(db)
    batch = step * max(1, _INSERT_CHUNK // step)
    left: list[tuple[Any, ...]] = []  # sealed rows short of a whole statement, in order
    with bulk_load.bulk_calls(db):
        for piece in slices:
            rows = left + piece.rows if left else piece.rows
            whole = len(rows) - len(rows) % step
            _insert(db, rows, whole, batch, tracker)
            left = rows[whole:]
            run_call_ids.update(piece.run_calls)
            with_parts += piece.parts
            del piece, rows  # written: not held while the next slice is drawn
            release_free_memory()
        _insert(db, left, len(left), batch, tracker)
    # The image call's parts, now that it has an id (and its request an index to find it by).
    media_call.write_parts(db, with_parts)
    return run_call_ids


def _insert(
    db: Database, rows: list[tuple[Any, ...]], end: int, batch: int, tracker: _Progress
) -> None:
    """rows[:end] inserted `batch` at a time, counted as written."""
    for first in range(0, end, batch):
        last = min(first + batch, end)
        audit_repo.insert_sealed(db, rows[first:last])
        tracker.wrote(last - first)


def _write_results(
    db: Database,
    content: DemoContent,
    version_ids: dict[tuple[str, int], int],
    case_ids: dict[str, list[int]],
    run_ids: dict[str, int],
    call_ids: dict[str, int],
) -> dict[str, list[int]]:
    """Run key -> result ids in the run's result order."""
    found: dict[str, list[int]] = {}
    for run in content.runs:
        cases = case_ids[run.dataset][1:]
        ids = runs_repo.add_results(
            db,
            run_ids[run.key],
            (
                runs_repo.NewResult(
                    version_id=version_ids[(run.prompt, result.version)],
                    model=result.model,
                    case_id=cases[result.case_index],
                    call_id=call_ids[result.request_id],
                    output=result.output,
                    status=result.status,
                    score=result.score,
                    created_at=result.created_at,
                )
                for result in run.results
            ),
        )
        runs_repo.add_checks(
            db,
            (
                runs_repo.NewCheck(
                    kind=check.kind,
                    passed=check.passed,
                    score=check.score,
                    detail=check.detail,
                    result_id=result_id,
                    created_at=result.created_at,
                )
                for result, result_id in zip(run.results, ids, strict=True)
                for check in result.checks
            ),
        )
        runs_repo.finish_run(db, run_ids[run.key], "done", finished_at=run.finished_at)
        found[run.key] = ids
    return found


def _counts(db: Database) -> dict[str, Any]:
    def count(table: str) -> int:
        return int(db[table].count)

    first, last, cost = calls_repo.call_window(db)
    return {
        "prompts": count("prompts"),
        "versions": count("prompt_versions"),
        "label_moves": count("label_moves"),
        "notes": count("prompt_notes"),
        "datasets": count("datasets"),
        "cases": count("cases"),
        "runs": count("runs"),
        "results": count("results"),
        "checks": count("checks"),
        "rubrics": count("rubrics"),
        "grades": count("grades"),
        "calls": count("calls"),
        "total_cost": round(float(cost), 4),
        "first_call": first,
        "last_call": last,
    }
