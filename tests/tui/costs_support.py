"""What the F5 tests compare the pane with: `llmbench costs` for the pane's default window, a
CLI row's figures in the pane's column order, and the rows the pane's table shows."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from textual.widgets import DataTable

from llmbench.cli import cli
from llmbench.tui.format import count, money, percent
from llmbench.tui.screens.costs import CostsScreen

# The pane's default window at the demo's clock (2025-06-01 12:00 UTC): the last 30 days.
WINDOW = ("--since", "2025-05-02T12:00", "--until", "2025-06-01T12:00")


def cli_costs(db: Path, by: str, *where: str) -> dict:
    wheres = [argument for item in where for argument in ("--where", item)]
    result = CliRunner().invoke(
        cli, ["costs", "--db", str(db), "--by", by, *wheres, *WINDOW, "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def figures(row: dict) -> list[str]:
    """A row's figures in the pane's column order (cost first, so 80 columns keep it)."""
    return [
        money(row["cost"]),
        percent(row["share"]),
        count(row["calls"]),
        money(row["cost_per_call"]),
        count(row["prompt_tokens"]),
        count(row["completion_tokens"]),
        count(row["cached_tokens"]),
    ]


def table_rows(screen: CostsScreen) -> list[list[str]]:
    table = screen.query_one("#costs-table", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
