"""F2's pass rate of a version and F3's scoreboard are one definition: a cell passes when the
model answered and none of its checks failed. The issue saw `pass rate — (0/0)` in F2 for a
version F3 showed at 100% (10/10): a run with no checks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmbench.cli import cli
from llmbench.demo.build import build_demo
from llmbench.gateway.client import shutdown_sync
from llmbench.services.evaluation.engine import scoreboard
from llmbench.services.prompts.library import version_view
from llmbench.store.db import Store, open_db

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def finish_gateway() -> Iterator[None]:
    yield
    shutdown_sync()


def _f3_by_version(store: Store) -> dict[int, tuple[int, int]]:
    """(cells, passed) per version over every run, as F3's scoreboards count them."""
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for (run_id,) in store.read().execute("SELECT id FROM runs").fetchall():
        for group in scoreboard(store, run_id):
            if group.version_id is not None:
                totals[group.version_id][0] += group.cells
                totals[group.version_id][1] += group.passed
    return {version: (cells, passed) for version, (cells, passed) in totals.items()}


def _f2(store: Store, version_id: int) -> tuple[int, int]:
    view = version_view(store, version_id)
    assert view is not None
    return view.metrics.checked, view.metrics.passed


def test_a_run_without_checks_passes_in_f2_as_in_f3(tmp_path: Path, finish_gateway: None) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: no checks\n"
        "prompts:\n"
        '  - {name: greeter, sections: {task: "Say hello to {{ who }}"}}\n'
        "models: [llmbench/echo]\n"
        "tests:\n" + "".join(f"  - vars: {{who: person {n}}}\n" for n in range(10)),
        encoding="utf-8",
    )
    db = tmp_path / "eval.db"
    result = CliRunner().invoke(cli, ["eval", str(suite), "--db", str(db)])
    assert result.exit_code == 0, result.output
    with open_db(db, create=False) as store:
        f3 = _f3_by_version(store)
        assert list(f3.values()) == [(10, 10)]  # F3: 100% (10/10)
        (version_id,) = f3
        assert _f2(store, version_id) == (10, 10)
        view = version_view(store, version_id)
        assert view is not None and view.metrics.pass_rate == 1.0


def test_every_version_of_the_demo_reads_the_same_in_f2_and_f3(tmp_path: Path) -> None:
    path = build_demo(tmp_path / "demo.db", calls=300, now=NOW).path
    with open_db(path, create=False) as store:
        f3 = _f3_by_version(store)
        assert f3 and any(passed < cells for cells, passed in f3.values())
        for version_id, counted in f3.items():
            assert _f2(store, version_id) == counted, version_id
