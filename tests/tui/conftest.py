"""One demo database per test session (built once, read by every TUI test) and helpers to drive
the app with Pilot until a pane has shown its data."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from llmbench.config import GeneralSettings, Settings
from llmbench.demo.build import build_demo
from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from tests.support import textual_idle

# Pilot's pause() and press() wait until no message is queued or being handled, not until the
# process looks idle in 20 ms probes (tests/support/textual_idle.py says why).
textual_idle.install()

DEMO_NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
DEMO_SEED = 7
DEMO_CALLS = 3000
REVIEWER = "maria.chen"  # one of the demo's two reviewers: the Grade pane has work done by "me"
SIZE = (140, 40)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    build_demo(path, seed=DEMO_SEED, calls=DEMO_CALLS, now=DEMO_NOW)
    # Tests that grade, acknowledge or promote write into this shared file; keep the file as
    # built beside it for those that must see exactly the demo (snapshots, private copies).
    shutil.copy(path, path.with_name("pristine.db"))
    _DEMO_KEYS.append(Path(os.environ["LLMBENCH_HOME"]) / "audit-keys")
    return path


_DEMO_KEYS: list[Path] = []


@pytest.fixture(autouse=True)
def demo_chain_key(isolated_home: Path) -> None:
    """The demo's audit-chain key (and head), made where it was built, brought into each test's
    own home, as a user who copies a database brings its key: llmbench makes no second key for
    a database that already sealed calls."""
    for built in _DEMO_KEYS:
        # A head being replaced right now (its atomic write's temporary file) is not copied.
        shutil.copytree(
            built,
            isolated_home / "audit-keys",
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("*.tmp"),
        )


@pytest.fixture
def pristine_copy(demo_db: Path, tmp_path: Path) -> Path:
    """A private copy of the demo database exactly as it was built."""
    path = tmp_path / "demo.db"
    shutil.copy(demo_db.with_name("pristine.db"), path)
    return path


@pytest.fixture
def demo_sql(demo_db: Path) -> Iterator[sqlite3.Connection]:
    """A plain read-only connection, for checking what the panes show independently."""
    connection = sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)
    yield connection
    connection.close()


@pytest.fixture
def demo_store(demo_db: Path) -> Iterator[Store]:
    store = open_db(demo_db, create=False)
    yield store
    store.close()


def demo_settings(**general: str) -> Settings:
    return Settings(general=GeneralSettings(**{"reviewer": REVIEWER, **general}))


@pytest.fixture
def make_app(demo_store: Store) -> Callable[..., LLMBenchApp]:
    def make(settings: Settings | None = None) -> LLMBenchApp:
        return LLMBenchApp(
            demo_store, settings or demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW
        )

    return make


async def settle(pilot: Pilot[None], timeout: float = 10.0) -> None:
    """Wait until the current pane has shown its data and no worker is still reading, twice in
    a row: showing rows moves the cursor, which can start a second read (the detail panel)."""
    app = pilot.app
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    quiet = 0
    while quiet < 2:
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:  # an exclusive read was replaced by a newer one: wait again
            continue
        await pilot.pause()
        if getattr(app.screen, "loaded", True) and not any(
            worker.is_running for worker in app.workers
        ):
            # Tables size their columns when idle, after the rows arrive. (Pilot's
            # wait_for_scheduled_animations would add two idle probes of 20 ms each.)
            await app.animator.wait_until_complete()
            await pilot.pause()
            quiet += 1
        else:
            quiet = 0
        if loop.time() > deadline:
            raise AssertionError(f"{app.screen!r} did not finish loading in {timeout} s")


async def open_pane(pilot: Pilot[None], key: str) -> None:
    await pilot.press(key)
    await settle(pilot)
