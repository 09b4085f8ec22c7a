"""F3's `E`: run an eval suite file as `llmbench eval SUITE` does. The suite is read, its inline
prompts and tests saved and its run created by the services the CLI calls
(services.evaluation.suite, engine); the run then streams like a comparison started with `n`
(the run screen resumes it, which is the CLI's `resume`), and lands in the runs table.

A suite that cannot run keeps the dialog open with each problem as `file:line: message`, and
nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from llmbench.tui.screens.path_dialog import PathDialog

if TYPE_CHECKING:
    from llmbench.tui.screens.compare.pane import CompareScreen


@dataclass(frozen=True)
class SuiteRun:
    """A suite's run, created and not started yet."""

    run_id: int
    name: str
    saved_versions: tuple[str, ...]
    new_cases: int

    def notice(self) -> str:
        parts = [f"run {self.run_id} {self.name} created"]
        if self.saved_versions:
            parts.append(f"new version of {', '.join(self.saved_versions)} saved")
        if self.new_cases:
            parts.append(f"{self.new_cases} new test case{'s' if self.new_cases != 1 else ''}")
        return "; ".join(parts) + "."


def run_suite_file(pane: CompareScreen) -> None:
    from llmbench.services.evaluation.engine import create_eval_run, prefetch_gateway
    from llmbench.services.evaluation.suite import prepare_suite

    # litellm takes seconds to import: let it load while the path is typed (as `n` does).
    prefetch_gateway()
    store = pane.bench.store

    def work(path: Path, _choice: str) -> SuiteRun:
        prepared = prepare_suite(store, path)
        run_id = create_eval_run(store, prepared.plan)
        return SuiteRun(run_id, prepared.plan.name, prepared.saved_versions, prepared.new_cases)

    dialog = PathDialog(
        "Run an eval suite",
        "A suite file as `llmbench eval` takes it (prompts, models, tests and checks in YAML);"
        f" its run streams here and stays in the runs table. Relative paths start at"
        f" {Path.cwd()}.",
        work,
        label="Suite file",
        placeholder="suite.yaml",
        submit="Run",
        refusal="The suite cannot run, nothing was written",
    )
    pane.app.push_screen(dialog, lambda run: _start(pane, run))


def _start(pane: CompareScreen, run: SuiteRun | None) -> None:
    if run is None:
        return
    from llmbench.tui.screens.compare.run import RunScreen

    pane.notify(run.notice(), title="Eval suite")
    pane.select_run = run.run_id  # highlighted in the runs table when the run screen closes
    pane.app.push_screen(RunScreen(run.run_id, start=True))
