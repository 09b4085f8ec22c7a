"""`llmbench` with no subcommand opens the TUI without click (`cli/tui_start.py`); anything
else, and every start the TUI cannot make, goes to the click group as before."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmbench.cli.tui_start import tui_options
from llmbench.store.db import open_db

# Runs `llmbench ARGS` through the entry point, headless, and quits at the first frame that
# shows the first pane's data (as tests/benchmarks/bench_startup.py does). Prints what was
# loaded by then and whether the cyclic collector ran, then whether it is back on at the end,
# then the order in which the first pane was built and the terminal's driver set up.
CHILD = """
import gc, sys
from textual.app import App
from llmbench.tui.screens.read_ahead import ReadAheadPane

display, build_driver, build_pane = App._display, App._build_driver, ReadAheadPane.__init__
seen, order = [], []

def probe(app, screen, renderable):
    display(app, screen, renderable)
    if renderable is not None and getattr(app.screen, "loaded", False) and not seen:
        seen.append(["click" in sys.modules, type(app.screen).__name__, app.reviewer])
        seen.append(gc.isenabled())
        app.exit()

def driver(app, *args, **kwargs):
    order.append("driver")
    return build_driver(app, *args, **kwargs)

def pane(screen):
    order.append("first pane")
    build_pane(screen)

App._display, App._build_driver, ReadAheadPane.__init__ = probe, driver, pane
sys.argv = ["llmbench", *sys.argv[1:]]
from llmbench.cli import main

try:
    main()
finally:
    print(seen, gc.isenabled())
    print(order)
"""


def llmbench(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TEXTUAL_DRIVER": "textual.drivers.headless_driver:HeadlessDriver"}
    return subprocess.run(
        [sys.executable, "-c", CHILD, *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env=env,
    )


@pytest.mark.parametrize(
    ("args", "options"),
    [
        ([], {}),
        (["--db", "a.db"], {"--db": "a.db"}),
        (["--db=a.db", "--create"], {"--db": "a.db", "--create": True}),
        (["--reviewer", "ann", "--db", "a.db"], {"--reviewer": "ann", "--db": "a.db"}),
        (["--db="], {"--db": ""}),
    ],
)
def test_the_plain_start_is_taken(args: list[str], options: dict[str, str | bool]) -> None:
    assert tui_options(args) == options


@pytest.mark.parametrize(
    "args",
    [
        ["prompts", "list"],
        ["--help"],
        ["-V"],
        ["--db"],  # no value: click says so
        ["--db", "-x.db"],  # a value that looks like an option: click's rules decide
        ["--db", "a.db", "--db", "b.db"],
        ["--create=yes"],
        ["--", "--db", "a.db"],
        ["--d", "a.db"],
    ],
)
def test_everything_else_is_left_to_click(args: list[str]) -> None:
    assert tui_options(args) is None


def test_the_plain_start_opens_the_tui_without_loading_click(tmp_path: Path) -> None:
    database = tmp_path / "bench.db"
    open_db(database).close()  # made and migrated (sqlite_utils, which loads click) beforehand
    result = llmbench("--db", str(database), "--reviewer", "ann")
    assert result.returncode == 0, result.stderr
    shown, built = result.stdout.split("\n")[:2]
    # No click; the collector paused until the data is on screen, and on again after.
    assert shown == "[[False, 'PromptsScreen', 'ann'], False] True"
    # The first pane (and its read) comes before Textual sets up the terminal.
    assert built == "['first pane', 'driver']"
    # A new database (migrated as it is made) is opened the same way.
    created = llmbench("--db", str(tmp_path / "new.db"), "--create")
    assert created.returncode == 0, created.stderr
    shown = created.stdout.split("\n")[0]
    assert "'PromptsScreen'" in shown and shown.endswith("], False] True")


def test_a_start_the_tui_cannot_make_is_reported_by_click_as_before(
    tmp_path: Path, isolated_home: Path
) -> None:
    # A mistyped path: refused with exit 2 and nothing made.
    refused = llmbench("--db", str(tmp_path / "typo" / "x.db"))
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"llmbench: {tmp_path / 'typo' / 'x.db'} does not exist")
    assert not (tmp_path / "typo").exists()
    # A config file that cannot be read: its problem, exit 1, and no TUI.
    (isolated_home / "config.toml").write_text("[general\n")
    broken = llmbench("--db", str(tmp_path / "new.db"), "--create")
    assert broken.returncode == 1
    assert broken.stderr.startswith("llmbench: ") and "config.toml" in broken.stderr
    assert broken.stdout.split("\n")[:2] == ["[] True", "[]"]
    (isolated_home / "config.toml").unlink()
    # A file that is not a database: click's words for it, exit 1.
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database")
    not_ours = llmbench("--db", str(notes))
    assert not_ours.returncode == 1
    assert not_ours.stderr.startswith(f"llmbench: {notes} is not an llmbench database")
    assert notes.read_text() == "not a database"
