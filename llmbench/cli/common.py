"""What every `llmbench` command shares: one-line errors and exit codes, the database option
and where the database is, the settings, and opening the TUI."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from llmbench import paths
from llmbench.cli.tui_start import new_database_by_mistake
from llmbench.cli.tui_start import open_tui as open_tui  # the demo command's, too
from llmbench.config import ConfigError, Settings, load_settings

USAGE_EXIT = 2
FAILURE_EXIT = 1

# Subcommands load when they are run (or listed by --help): defining them all costs tens of
# milliseconds that the TUI's first frame should not pay. Name → (module in llmbench.cli, name).
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("demo", "demo"),
    "config": ("settings_commands", "config"),
    "db": ("database", "db"),
    "audit": ("audit", "audit"),
    "monitor": ("monitor", "monitor"),
    "logs": ("logs", "logs"),
    "costs": ("costs", "costs"),
    "budgets": ("budgets", "budgets"),
    "import": ("imports", "import_group"),
    "collect": ("collect", "collect"),
    "prices": ("prices", "prices"),
    "routes": ("routes", "routes"),
    "keys": ("keys", "keys"),
    "prompts": ("prompts", "prompts"),
    "grades": ("grades", "grades"),
    "eval": ("evaluate", "eval_command"),
    "datasets": ("datasets", "datasets"),
    "export": ("export_otel", "export_group"),
    "optimize": ("optimize", "optimize"),
}


class BadInput(click.ClickException):
    """Input the command cannot use (a file it refuses, a name nothing matches): exit 2, as
    the README's exit codes promise for bad input."""

    exit_code = USAGE_EXIT


def fail(message: str, code: int = FAILURE_EXIT) -> NoReturn:
    click.echo(f"llmbench: {message}", err=True)
    sys.exit(code)


class LLMBenchGroup(click.Group):
    """A click group whose errors are one line, whose usage errors exit with 2, and whose
    subcommands (SUBCOMMANDS) are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *SUBCOMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in SUBCOMMANDS:
            module, attribute = SUBCOMMANDS[cmd_name]
            command: click.Command = getattr(
                importlib.import_module(f"llmbench.cli.{module}"), attribute
            )
            return command
        return super().get_command(ctx, cmd_name)

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        from llmbench.store.db import StoreError, damaged_error

        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except click.UsageError as error:
            hint = (
                f"see '{error.ctx.command_path} --help'" if error.ctx else "see 'llmbench --help'"
            )
            fail(f"{error.format_message()} ({hint})", USAGE_EXIT)
        except click.Abort:
            fail("aborted", 130)
        except click.ClickException as error:
            fail(error.format_message(), error.exit_code or FAILURE_EXIT)
        except (ConfigError, StoreError) as error:
            fail(str(error))
        except Exception as error:
            # A damaged file (or a failing disk) can stop any command that reads it.
            damaged = damaged_error(error)
            if damaged is None:
                raise
            fail(str(damaged))
        sys.exit(result if isinstance(result, int) else 0)


def cli_settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def resolve_db(ctx: click.Context, explicit: str | None) -> Path:
    """--db on the subcommand, else on the group, else LLMBENCH_DB, else config, else XDG."""
    chosen = explicit or (ctx.find_root().params.get("db") if ctx.find_root() else None)
    if chosen:
        return paths.resolve_db_path(chosen)
    settings_db = cli_settings().general.db
    return paths.resolve_db_path(settings_db or None)


def refuse_a_new_database_by_mistake(db_path: Path) -> None:
    """The TUI makes a missing database only at the default path (`new_database_by_mistake`)."""
    if not new_database_by_mistake(db_path):
        return
    raise BadInput(
        f"{db_path} does not exist: check the path, or pass --create to make a new database "
        "there (llmbench demo --db PATH builds one with example data)"
    )


db_option = click.option(
    "--db",
    "db",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Database file (default: LLMBENCH_DB, then the XDG data dir).",
)
