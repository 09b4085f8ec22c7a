"""What a finished evaluation means for CI: its scoreboard, its comparison with a baseline run,
and whether it passes (every cell, or `fail_under` of them, succeeded; no case that passed in
the baseline fails now)."""

from __future__ import annotations

from dataclasses import dataclass

from llmbench.core.evaluation.scoreboard import CellRecord, GroupStats, MigrationReport, scoreboard
from llmbench.services.evaluation.engine import RunSummary, compare_runs, run_cells
from llmbench.store.db import Store

PASS_EXIT = 0
FAIL_EXIT = 1


@dataclass(frozen=True)
class EvalVerdict:
    summary: RunSummary
    cells: list[CellRecord]
    board: list[GroupStats]
    migration: MigrationReport | None
    fail_under: float  # 0..1

    @property
    def pass_rate(self) -> float:
        return sum(cell.succeeded for cell in self.cells) / len(self.cells) if self.cells else 0.0

    @property
    def below_threshold(self) -> bool:
        # A tiny tolerance: 0.9 must accept 9 of 10 whatever the float rounding.
        return self.pass_rate + 1e-9 < self.fail_under or not self.cells

    @property
    def regressions(self) -> int:
        return len(self.migration.regressions) if self.migration else 0

    @property
    def exit_code(self) -> int:
        return FAIL_EXIT if self.below_threshold or self.regressions else PASS_EXIT

    def reasons(self) -> list[str]:
        found = []
        if self.below_threshold:
            found.append(
                f"pass rate {self.pass_rate:.1%} is under the required {self.fail_under:.1%}"
            )
        if self.regressions:
            count = self.regressions
            found.append(
                f"{count} case{'s' if count != 1 else ''} passed in the baseline run and"
                f" {'fail' if count != 1 else 'fails'} now"
            )
        return found


def verdict_of(
    store: Store, summary: RunSummary, *, baseline_run_id: int | None, fail_under: float = 1.0
) -> EvalVerdict:
    cells = run_cells(store, summary.run_id)
    migration = (
        compare_runs(store, baseline_run_id, summary.run_id)
        if baseline_run_id is not None
        else None
    )
    return EvalVerdict(summary, cells, scoreboard(cells), migration, fail_under)


def parse_rate(text: str) -> float:
    """A pass rate as 0.9, 90 or 90%; ValueError otherwise."""
    raw = text.strip().removesuffix("%")
    rate = float(raw)
    if text.strip().endswith("%") or rate > 1:
        rate /= 100
    if not 0 <= rate <= 1:
        raise ValueError(f"a pass rate is between 0 and 1 (or 0% and 100%), not {text}")
    return rate
