"""`llmbench` with no subcommand: open the TUI without loading click.

Parsing the command line with click costs ~10 ms of imports and set-up that the TUI's first
frame would wait for. `start` takes the plain start (nothing, or only `--db`, `--reviewer`
and `--create`) and opens the TUI itself; for anything else (a subcommand, --help, an option
it does not know) it returns False and the click group runs as before. It says nothing
itself: whenever it cannot open the TUI (a config it cannot read, a path the TUI refuses, a
file that will not open) it also returns False, so click runs the same steps again and
reports the problem in its usual words and exit code.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from llmbench import paths

if TYPE_CHECKING:
    from llmbench.config import Settings
    from llmbench.store.db import Store

VALUE_OPTIONS = ("--db", "--reviewer")
FLAGS = ("--create",)


def tui_options(args: Sequence[str]) -> dict[str, str | bool] | None:
    """The TUI's options when `args` (without the program name) holds nothing else; None when
    click must parse them. A value that looks like an option, `--`, a repeated or abbreviated
    option: all left to click, which knows its own rules for them."""
    options: dict[str, str | bool] = {}
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        name, equals, value = arg.partition("=")
        if name in FLAGS and not equals and name not in options:
            options[name] = True
        elif name in VALUE_OPTIONS and name not in options:
            if not equals:
                if not rest or rest[0].startswith("-"):
                    return None
                value = rest.pop(0)
            options[name] = value
        else:
            return None
    return options


def database_path(explicit: str | None, settings: Settings) -> Path:
    """--db, else the config's [general] db, else LLMBENCH_DB, else the XDG data dir (as
    `common.resolve_db` picks it for every command)."""
    return paths.resolve_db_path(explicit or settings.general.db or None)


def new_database_by_mistake(db_path: Path) -> bool:
    """The TUI makes a missing database only at the default path: anywhere else the path is
    most likely mistyped, and a new empty database there would hide the typo."""
    if db_path.exists() or db_path.is_symlink():
        return False
    default = paths.default_db_path().expanduser().absolute()
    return db_path.expanduser().absolute() != default


def with_reviewer(settings: Settings, reviewer: str | None) -> Settings:
    if not reviewer:
        return settings
    return replace(settings, general=replace(settings.general, reviewer=reviewer))


def run_tui(store: Store, settings: Settings) -> None:
    from llmbench.tui.app import LLMBenchApp

    try:
        LLMBenchApp(store, settings).run()
    finally:
        store.close()


def open_tui(db_path: Path, settings: Settings, *, create: bool) -> None:
    from llmbench.services.database import open_store

    run_tui(open_store(db_path, create=create), settings)


def start(args: Sequence[str]) -> bool:
    """Open the TUI for a plain start and return True once it has closed; False, having done
    nothing, when click must take `args` (see the module's docstring)."""
    options = tui_options(args)
    if options is None:
        return False
    # Everything the start loads (settings, the store, the app and its first pane) lives as
    # long as the process: the cyclic collector would walk it again and again for nothing
    # (~10 ms). The app turns it back on once its first pane's data is on screen (or after
    # GC_PAUSE_S), or here if the TUI is not opened after all.
    gc.disable()
    try:
        opened = _open(options)
    except BaseException:
        gc.enable()
        raise
    if opened is None:
        gc.enable()
        return False
    run_tui(*opened)
    return True


def _open(options: dict[str, str | bool]) -> tuple[Store, Settings] | None:
    from llmbench.config import ConfigError, load_settings

    try:
        settings = load_settings()
    except ConfigError:
        return None
    db = options.get("--db")
    path = database_path(db if isinstance(db, str) else None, settings)
    if not options.get("--create") and new_database_by_mistake(path):
        return None
    reviewer = options.get("--reviewer")
    settings = with_reviewer(settings, reviewer if isinstance(reviewer, str) else None)
    from llmbench.services.database import open_store

    try:
        store = open_store(path, create=True)
    except Exception:  # click runs the same steps again and reports it in its words
        return None
    return store, settings
