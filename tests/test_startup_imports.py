"""What `llmbench` loads on its way to the first frame (issue 17: the first pane's data at most
1.5 times an empty Textual app's start, `tests/benchmarks/bench_startup.py`). Each module below
was loaded by that path once, for something the first frame does not show; a fresh interpreter
goes the same way (settings, the store, F2's pane) and must not load them again."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from llmbench import paths
from llmbench.demo.build import build_demo
from llmbench.store.db import open_db

NOT_BEFORE_THE_FIRST_FRAME = (
    "llmbench.core.guard.policy",  # config: only for a [guard] other than the defaults
    "llmbench.core.traffic.routing",  # config: only for [[routes]]
    "tomllib",  # config: only when the file exists
    "llmbench.store.maintenance",  # services.database: only for db info, check and backup
    "textual.widgets._data_table",  # F2: its history table comes with the first history
    "llmbench.tui.widgets.version_table",
    "llmbench.tui.widgets.version_detail",
)

# The first frame's path, as `llmbench --db FILE` takes it (cli/tui_start.py), short of Textual.
START = r"""
import json, sys
from pathlib import Path

from llmbench.cli import tui_start
from llmbench.config import load_settings
from llmbench.services.database import open_store
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.prompts import pane

settings = load_settings()
open_store(Path(sys.argv[1]), create=True).close()
print(json.dumps(sorted(name for name in json.loads(sys.argv[2]) if name in sys.modules)))
"""


def _loaded_by_the_start(db: Path) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", START, str(db), json.dumps(NOT_BEFORE_THE_FIRST_FRAME)],
        capture_output=True,
        text=True,
        check=True,
        cwd=db.parent,
        timeout=120,
    )
    loaded: list[str] = json.loads(result.stdout)
    return loaded


def test_the_start_loads_nothing_the_first_frame_does_not_use(
    isolated_home: Path, tmp_path: Path
) -> None:
    assert _loaded_by_the_start(tmp_path / "start.db") == []


@pytest.mark.parametrize(
    ("config", "needed"),
    [
        ("[guard]\ninjection_threshold = 0.7\n", ["llmbench.core.guard.policy", "tomllib"]),
        (
            '[[routes]]\nname = "c"\narms = [{ name = "a", model = "m" }]\n',
            ["llmbench.core.traffic.routing", "tomllib"],
        ),
    ],
)
def test_a_config_that_needs_them_loads_them(
    isolated_home: Path, tmp_path: Path, config: str, needed: list[str]
) -> None:
    # The check above sees these modules when they are loaded: a config that needs them does.
    paths.config_path().write_text(config)
    assert _loaded_by_the_start(tmp_path / "start.db") == sorted(needed)


# F2's first history read, made at start and often while the next pane opens (issue 21): it reads
# a prompt's versions and figures, and must not load the editor's templates and token counts
# (imports hold the interpreter, and an SQLite interrupt cannot stop them).
HISTORY = r"""
import json, sys
from pathlib import Path

from llmbench.services.database import open_store
from llmbench.services.prompts import history

store = open_store(Path(sys.argv[1]), create=False)  # made (and migrated) by the test
assert history.history(store, 1) is None  # an empty file: no prompt 1
store.close()
print(json.dumps(sorted(name for name in json.loads(sys.argv[2]) if name in sys.modules)))
"""
NOT_FOR_THE_HISTORY = ("jinja2", "tiktoken", "sqlite_utils", "llmbench.core.prompts.preview")


def test_f2s_history_read_loads_no_template_or_token_counting(
    isolated_home: Path, tmp_path: Path
) -> None:
    open_db(tmp_path / "h.db").close()
    result = subprocess.run(
        [sys.executable, "-c", HISTORY, str(tmp_path / "h.db"), json.dumps(NOT_FOR_THE_HISTORY)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert json.loads(result.stdout) == []


NOT_ON_THE_WAY_TO_F6 = (
    "sqlite_utils",  # its reads only execute SQL, on the thread's plain connection
    "llmbench.store.datasets",  # promoting a call to a dataset: a key away
    "llmbench.tui.screens.audit.call_detail",  # enter
    "llmbench.tui.screens.audit.columns",  # c
    "llmbench.tui.screens.dialogs",  # t, x
    "textual.widgets._selection_list",
)

# F6 pressed right after the start (issue 21, `tests/benchmarks/bench_pane_switch.py`): its
# screen's module on the main thread, its first reads in a worker, both competing with F2's.
F6 = r"""
import json, sys
from pathlib import Path

from llmbench.core.audit.query import parse
from llmbench.services.audit import browser
from llmbench.services.database import open_store
from llmbench.tui.screens.audit import pane

store = open_store(Path(sys.argv[1]), create=False)
found = browser.compile_query(store, parse(""))
assert browser.read_page(store, found).rows
browser.read_count(store, found)
print(json.dumps(sorted(name for name in json.loads(sys.argv[2]) if name in sys.modules)))
"""


def test_f6s_first_rows_load_nothing_they_do_not_use(isolated_home: Path, tmp_path: Path) -> None:
    db = build_demo(tmp_path / "f6.db", calls=200, now=datetime(2025, 6, 1, tzinfo=UTC)).path
    result = subprocess.run(
        [sys.executable, "-c", F6, str(db), json.dumps(NOT_ON_THE_WAY_TO_F6)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert json.loads(result.stdout) == []
