"""The `llmbench` command. With no subcommand it opens the TUI.

The plain start (`llmbench`, with at most --db, --reviewer and --create) opens the TUI without
loading click (`tui_start`); everything else goes to the click group in `group.py`, whose
subcommands load only when run (common.SUBCOMMANDS), so that `llmbench` reaches the TUI's first
frame fast.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from llmbench.cli import tui_start

if TYPE_CHECKING:
    import click


def main() -> None:
    if tui_start.start(sys.argv[1:]):
        sys.exit(0)  # as the click group exits after the TUI
    from llmbench.cli.group import cli

    cli(prog_name="llmbench")


def __getattr__(name: str) -> click.Group:
    # `from llmbench.cli import cli` (tests, the click group's users) loads click only then.
    if name == "cli":
        from llmbench.cli.group import cli

        return cli
    raise AttributeError(f"module 'llmbench.cli' has no attribute {name!r}")
