"""The `llmbench` click group: every subcommand, --help, --version, and the TUI's start when
it is not the plain one `tui_start` takes.

Heavy modules (Textual screens, litellm, the demo builder) are imported inside commands, and the
commands themselves load only when run (common.SUBCOMMANDS).
"""

from __future__ import annotations

import click

from llmbench import __version__
from llmbench.cli.common import (
    LLMBenchGroup,
    cli_settings,
    db_option,
    open_tui,
    refuse_a_new_database_by_mistake,
    resolve_db,
)
from llmbench.cli.tui_start import with_reviewer


@click.group(
    cls=LLMBenchGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, "-V", "--version", prog_name="llmbench")
@db_option
@click.option("--reviewer", help="Grade as this reviewer (default: [general] reviewer).")
@click.option(
    "--create", is_flag=True, help="Make a new database at --db when there is none (the TUI)."
)
@click.pass_context
def cli(ctx: click.Context, db: str | None, reviewer: str | None, create: bool) -> None:
    """A keyboard-driven workbench for LLM prompts: version, compare, grade, cost, audit.

    Run with no command to open the TUI on your database.
    """
    if ctx.invoked_subcommand is None:
        path = resolve_db(ctx, db)
        if not create:
            refuse_a_new_database_by_mistake(path)
        open_tui(path, with_reviewer(cli_settings(), reviewer), create=True)
