"""`llmbench import promptfoo`: converts a promptfoo config into a suite file and, with --run,
runs it exactly as `llmbench eval` does; exit 0 / 1 / 2 as `llmbench eval`."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from llmbench.cli import cli
from llmbench.gateway.client import shutdown_sync
from llmbench.importers.promptfoo.suite_writing import HEADER

FIXTURE = Path(__file__).parent / "data" / "promptfoo" / "getting-started"
ON_BUILT_IN_MODELS = (
    "--model-map",
    "openai:gpt-4o-mini=llmbench/echo",
    "--model-map",
    "anthropic:messages:claude-3-5-haiku-20241022=llmbench/mock",
    "--model-map",
    "ollama:chat:llama3=llmbench/echo",
    "--model-map",
    "openai:gpt-4o=llmbench/mock",
)
# Echo answers with the prompt, so these assertions pass exactly when the prompt shows the word.
ECHOED = """\
description: echo check
prompts: ['Repeat after me: {{word}}']
providers: [openai:gpt-4o-mini]
defaultTest:
  assert: [{type: not-icontains, value: As an AI}]
tests:
  - vars: {word: parcel}
    assert: [{type: icontains, value: '{{word}}'}]
  - vars: {word: refund}
    assert:
      - {type: contains-any, value: [refund, money]}
      - {type: webhook, value: 'https://example.com/check'}
"""


@pytest.fixture(autouse=True)
def finish_gateway() -> Iterator[None]:
    yield
    shutdown_sync()


def _import(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli,
        ["--db", str(tmp_path / "eval.db"), "import", "promptfoo", *args],
        prog_name="llmbench",
    )


def _query(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(tmp_path / "eval.db") as db:
        return db.execute(sql).fetchall()


def test_the_getting_started_example_converts_and_runs_on_built_in_models(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "getting-started"
    shutil.copytree(FIXTURE, folder)
    config = folder / "promptfooconfig.yaml"
    result = _import(tmp_path, str(config), "--run", *ON_BUILT_IN_MODELS)
    # The built-in models do not translate: the translation checks fail, so exit 1.
    assert result.exit_code == 1, result.output
    skipped = [line for line in result.output.splitlines() if line.startswith("not converted")]
    assert not any("javascript" in line for line in skipped)  # a check now
    assert "2 prompts, 2 models, 4 tests" in result.output
    assert "FAIL: pass rate" in result.output
    suite = folder / "promptfooconfig.eval.yaml"
    assert suite.read_text(encoding="utf-8").startswith(HEADER)
    assert _query(tmp_path, "SELECT kind, name, status FROM runs") == [
        ("eval", "Getting started", "done")
    ]
    # 2 prompts × 2 models (ollama mapped onto echo runs once) × 4 tests.
    cells = _query(
        tmp_path,
        "SELECT r.model, r.status, r.output, c.vars FROM results r "
        "JOIN cases c ON c.id = r.case_id",
    )
    assert len(cells) == 16
    assert {model for model, *_ in cells} == {"llmbench/echo", "llmbench/mock"}
    assert all(status == "ok" for _, status, *_ in cells)
    echoed = [output for model, _, output, _ in cells if model == "llmbench/echo"]
    assert any("Convert this English to" in str(output) for output in echoed)
    assert any("Translate to" in str(output) for output in echoed)
    checks = _query(
        tmp_path,
        "SELECT r.model, c.vars, k.kind, k.passed, k.detail FROM checks k "
        "JOIN results r ON r.id = k.result_id JOIN cases c ON c.id = r.case_id",
    )
    assert len(checks) == 4 * 10  # per prompt × model: 2 + 3 + 2 + 3 checks
    assert sum(1 for row in checks if row[2] == "javascript") == 4
    french = [row for row in checks if "French" in str(row[1]) and row[2] == "icontains"]
    french_translation = [row for row in french if "Bonjour" in str(row[4])]
    assert len(french_translation) == 4 and not any(row[3] for row in french_translation)
    pirate_echo = [row for row in checks if "Pirate" in str(row[1]) and row[0] == "llmbench/echo"]
    assert len(pirate_echo) == 6 and all(row[3] for row in pirate_echo)  # "treasure" is echoed
    assert sum(1 for row in checks if row[2] == "judge") == 4
    judge_calls = _query(
        tmp_path, "SELECT count(*) FROM calls WHERE model_requested = 'llmbench/mock'"
    )
    assert judge_calls[0][0] >= 8  # 4 answers + at least 4 judge calls, all audited


def test_a_config_that_passes_exits_0_and_writes_where_told(tmp_path: Path) -> None:
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(ECHOED, encoding="utf-8")
    suite = tmp_path / "suites" / "echo.eval.yaml"
    suite.parent.mkdir()
    args = (str(config), "-o", str(suite), "--run", "--model-map")
    result = _import(tmp_path, *args, "openai:gpt-4o-mini=llmbench/echo")
    assert result.exit_code == 0, result.output
    assert "PASS (pass rate 100.0%)" in result.output
    assert "tests[1].assert[1]: webhook" in result.output
    text = suite.read_text(encoding="utf-8")
    assert "# --model-map: openai:gpt-4o-mini -> llmbench/echo" in text
    assert "#   promptfooconfig.yaml:12: tests[1].assert[1]: webhook" not in text
    assert f"#   {config}:12: tests[1].assert[1]: webhook — sends the output to a URL" in text
    assert _query(tmp_path, "SELECT count(*) FROM results") == [(2,)]
    # Converting again rewrites the importer's own suite; the run reuses the saved version.
    again = _import(tmp_path, *args, "openai:gpt-4o-mini=llmbench/echo")
    assert again.exit_code == 0, again.output
    assert "saved a new version" not in again.output
    assert _query(tmp_path, "SELECT count(*) FROM prompt_versions") == [(1,)]


def test_without_run_it_only_writes_the_suite_beside_the_config(tmp_path: Path) -> None:
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(ECHOED, encoding="utf-8")
    result = _import(tmp_path, str(config))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "promptfooconfig.eval.yaml").exists()
    assert "1 prompts, 1 models, 2 tests, 3 checks; 1 not converted" in result.output
    assert not (tmp_path / "eval.db").exists() or _query(tmp_path, "SELECT * FROM runs") == []


@pytest.mark.parametrize(
    ("config", "args", "message"),
    [
        (
            "prompts: ['a']\nproviders: [{id: openai:gpt-4o, config: {apiKey: sk-x-123}}]\n",
            (),
            "an API key is not converted",
        ),
        ("prompts: ['a']\nproviders: ['exec:./run.sh']\n", (), "nothing to run"),
        ("prompts: ['a'\n", (), "invalid YAML"),
        (
            "prompts: ['a {{w}}']\nproviders: [openai:gpt-4o-mini]\ntests: [{vars: {w: x}}]\n",
            ("--model-map", "openai:gpt-4o-mini=llmbench/echo"),
            "has no assertions: --run has nothing to check",
        ),
        (
            "prompts: ['a']\nproviders: [openai:gpt-4o-mini]\n"
            "tests: [{assert: [{type: webhook, value: 'https://x'}]}]\n",
            ("--model-map", "openai:gpt-4o-mini=llmbench/echo"),
            "no runnable check: none of the 1 assertions converted",
        ),
        (ECHOED, ("--model-map", "openai:gpt-5=llmbench/echo"), "no provider or grader"),
        (ECHOED, ("--model-map", "no-equals-sign"), "use FROM=TO"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(
    tmp_path: Path, config: str, args: tuple[str, ...], message: str
) -> None:
    path = tmp_path / "promptfooconfig.yaml"
    path.write_text(config, encoding="utf-8")
    result = _import(tmp_path, str(path), "--run", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "sk-x-123" not in result.output
    assert not (tmp_path / "promptfooconfig.eval.yaml").exists()


def test_a_file_the_importer_did_not_write_is_not_overwritten(tmp_path: Path) -> None:
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(ECHOED, encoding="utf-8")
    mine = tmp_path / "mine.yaml"
    mine.write_text("name: my own suite\n", encoding="utf-8")
    result = _import(tmp_path, str(config), "-o", str(mine))
    assert result.exit_code == 2
    assert "was not written by this importer" in result.output
    assert mine.read_text(encoding="utf-8") == "name: my own suite\n"
