"""promptfoo's own example configs (tests/data/promptfoo_examples, copied from its repository
with its licence) imported and run on the built-in models, headless.

Every assertion of an example is counted from its files here, independently of the importer
(the YAML's `assert` lists, `assert-set` members, a CSV's non-empty `__expected` cells), and
each must come out either as a check of the suite, of the type it names, or as an assertion
reported not converted with a reason and its file and line: none lost, none misnamed.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from llmbench.cli import cli
from llmbench.core.evaluation.check_parsing import parse_check
from llmbench.gateway.client import shutdown_sync
from llmbench.importers.promptfoo.assertions import PROMPTFOO_TYPES, check_type_exists
from llmbench.importers.promptfoo.config import Conversion, PromptfooError, convert_file

EXAMPLES = Path(__file__).parent.parent / "data" / "promptfoo_examples"
README = Path(__file__).parents[2] / "README.md"
# example folder -> (config file, --model-map entries onto the built-in models)
RUNNABLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "simple-test": ("promptfooconfig.yaml", ("openai:gpt-4.1-mini=llmbench/echo",)),
    "simple-csv": ("promptfooconfig.yaml", ("openai:gpt-3.5-turbo=llmbench/echo",)),
    "config-csv-metadata": ("promptfooconfig.yaml", ("openai:chat:gpt-5.4-mini=llmbench/echo",)),
    "python-assert": ("promptfooconfig-inline.yaml", ("openai:gpt-4.1-mini=llmbench/echo",)),
    "python-assert-external": (
        "promptfooconfig.yaml",
        ("openai:gpt-4-1106-preview=llmbench/echo",),
    ),
    "json-output": ("promptfooconfig.yaml", ("openai:chat:gpt-3.5-turbo=llmbench/mock",)),
    "eval-self-grading": ("promptfooconfig.yaml", ("openai:chat:gpt-5.2=llmbench/echo",)),
    "eval-customer-support-rubric": (
        "promptfooconfig.yaml",
        ("echo=llmbench/echo", "openai:gpt-4.1-mini=llmbench/mock"),
    ),
    "getting-started": (
        "promptfooconfig.yaml",
        ("openai:gpt-4.1=llmbench/echo", "openai:o4-mini=llmbench/mock"),
    ),
    "structured-outputs-config": (
        "promptfooconfig.yaml",
        (
            "openai:chat:gpt-4o-2024-11-20=llmbench/mock",
            "azure:chat:gpt-4o-2024-08-06=llmbench/echo",
        ),
    ),
    "eval-rag": ("promptfooconfig.yaml", ("openai:gpt-4.1-mini=llmbench/echo",)),
    "g-eval": ("promptfooconfig.yaml", ("openai:gpt-4.1-mini=llmbench/echo",)),
    "assertion-scoring-override": ("promptfooconfig.yaml", ("openai:gpt-4o-mini=llmbench/echo",)),
}
# promptfoo names that are another name of the same llmbench check.
ALIASES = {
    "llm-rubric": "judge",
    "icontains-any": "contains-any",
    "icontains-all": "contains-all",
    "model-graded-factuality": "factuality",
    "latency": "latency-le",
    "cost": "cost-le",
}
_EXPECTED_COLUMN = re.compile(r"^__expected\d*$")


@pytest.fixture(autouse=True)
def finish_gateway() -> Iterator[None]:
    yield
    shutdown_sync()


# -- the assertions of an example, counted from its own files -------------------------------


def source_assertions(config: Path) -> dict[str, tuple[str, str]]:
    """where -> (file, promptfoo type) for every assertion of the config."""
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    templates = data.get("assertionTemplates", {})
    found: dict[str, tuple[str, str]] = {}
    default = data.get("defaultTest")
    if isinstance(default, dict):
        _list(found, default.get("assert"), "defaultTest.assert", str(config), templates)
    tests = data.get("tests")
    tests = [tests] if isinstance(tests, str) else tests or []
    for index, test in enumerate(tests):
        if isinstance(test, str):
            csv_file = config.parent / test.removeprefix("file://")
            _csv(found, csv_file)
        else:
            where = f"tests[{index}].assert"
            _list(found, test.get("assert"), where, str(config), templates)
    return found


def _list(
    found: dict[str, tuple[str, str]],
    items: Any,
    where: str,
    path: str,
    templates: dict[str, Any],
) -> None:
    for index, item in enumerate(items or []):
        place = f"{where}[{index}]"
        if "$ref" in item:
            item = templates[item["$ref"].rsplit("/", 1)[1]]
        if item["type"] == "assert-set":
            _list(found, item["assert"], f"{place}.assert", path, templates)
        else:
            found[place] = (path, item["type"])


def _csv(found: dict[str, tuple[str, str]], path: Path) -> None:
    with path.open(encoding="utf-8", newline="") as file:
        rows = csv.reader(file)
        header = next(rows)
        for row in rows:
            for column, cell in zip(header, row, strict=True):
                if _EXPECTED_COLUMN.match(column) and cell.strip():
                    found[f"row {rows.line_num}.{column}"] = (str(path), _csv_type(cell))


def _csv_type(cell: str) -> str:
    """The type promptfoo reads from an assertion cell (its prefixes, then `type:` forms)."""
    if cell.startswith(("javascript:", "fn:", "eval:")):
        return "javascript"
    if cell.startswith(("grade:", "llm-rubric:")):
        return "llm-rubric"
    if cell.startswith("python:"):
        return "python"
    name = re.match(r"^(not-)?([a-z][a-z-]*)(\([\d.]+\))?:", cell)
    return name.group(0).split("(")[0].rstrip(":") if name else "equals"


def _kind(promptfoo_type: str, check: dict[str, Any] | None = None) -> str:
    name = promptfoo_type.removeprefix("not-")
    if name == "is-json" and check is not None and "value" in check:
        return "json-schema"  # is-json with a schema
    return ALIASES.get(name, name)


def _convert(folder: str, config_name: str, maps: tuple[str, ...]) -> tuple[Path, Conversion]:
    config = EXAMPLES / folder / config_name
    model_map = dict(item.split("=", 1) for item in maps)
    return config, convert_file(config, model_map)


# -- tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", sorted(RUNNABLE))
def test_every_assertion_is_a_check_or_reported_with_its_reason(folder: str) -> None:
    config_name, maps = RUNNABLE[folder]
    config, conversion = _convert(folder, config_name, maps)
    source = source_assertions(config)
    converted = {item.where: item for item in conversion.converted}
    skipped = {
        item.where: item
        for item in conversion.omitted
        if ".assert[" in item.where or ".__expected" in item.where
    }
    assert not set(converted) & set(skipped)
    assert set(converted) | set(skipped) == set(source), folder
    for where, item in converted.items():
        path, promptfoo_type = source[where]
        assert (item.path, item.what) == (path, promptfoo_type)
        assert item.check == _kind(promptfoo_type) or item.check == "json-schema"
    for where, item in skipped.items():
        path, promptfoo_type = source[where]
        assert item.path == path and item.what == promptfoo_type and item.why.strip()
        assert 1 <= item.line <= len(Path(path).read_text(encoding="utf-8").splitlines())
    # The suite holds exactly the converted ones: defaultTest's once, each test's in its case.
    suite_checks = len(conversion.suite.get("checks", []))
    assert suite_checks == sum(1 for where in converted if where.startswith("defaultTest"))
    for check in conversion.suite.get("checks", []) + [
        check for test in conversion.suite["tests"] for check in test.get("checks", [])
    ]:
        parse_check(check)  # each is a check llmbench runs, as written


def test_the_counts_of_each_example() -> None:
    counts = {}
    for folder, (config_name, maps) in sorted(RUNNABLE.items()):
        _, conversion = _convert(folder, config_name, maps)
        skipped = [
            item for item in conversion.omitted if ".assert[" in item.where or "__exp" in item.where
        ]
        counts[folder] = (len(conversion.converted), len(skipped))
    assert counts == {
        "assertion-scoring-override": (5, 0),
        "config-csv-metadata": (6, 0),
        "eval-customer-support-rubric": (5, 0),
        "eval-rag": (6, 5),  # its second test reads docs/maternity.md, which the example lacks
        "eval-self-grading": (2, 0),
        "g-eval": (5, 0),
        "getting-started": (2, 0),
        "json-output": (5, 0),  # with the test whose options.transform parses the JSON first
        "python-assert": (2, 0),
        "python-assert-external": (4, 0),
        "simple-csv": (4, 0),
        "simple-test": (8, 0),
        "structured-outputs-config": (4, 0),
    }


def test_what_promptfoo_reads_differently_from_python_yaml() -> None:
    _, conversion = _convert("simple-test", "promptfooconfig.yaml", ())
    tests = conversion.suite["tests"]
    assert tests[0]["vars"] == {"body": "Yes"}  # YAML 1.2: `Yes` is text, not true
    # `$ref: '#/assertionTemplates/containsPirateNoise'` is the template's assertion.
    assert tests[4]["checks"][1] == {"type": "icontains", "value": "arrr"}
    assert [check["type"] for check in tests[3]["checks"]] == ["javascript", "python", "similar"]


def test_csv_metadata_lists_and_per_assertion_thresholds() -> None:
    _, conversion = _convert("config-csv-metadata", "promptfooconfig.yaml", ())
    tests = conversion.suite["tests"]
    assert [test["tags"] for test in tests] == [
        {"category": "technology", "tags": '["ai", "data science", "algorithms"]'},
        {"category": "science", "tags": '["physics", "advanced,theory", "quantum"]'},
        {"category": "environment", "tags": '["science", "global,warming", "research"]'},
    ]
    assert [[check.get("threshold") for check in test["checks"]] for test in tests] == [
        [0.9, 0.8],
        [0.85, 0.75],
        [0.7, 0.675],
    ]


def test_the_load_filter_renders_as_promptfoo_renders_it(tmp_path: Path) -> None:
    folder = tmp_path / "simple-csv"
    shutil.copytree(EXAMPLES / "simple-csv", folder)
    result = _run(tmp_path, folder / "promptfooconfig.yaml", RUNNABLE["simple-csv"][1])
    assert result.exit_code == 1, result.output  # the echo model does not translate
    outputs = [row[0] for row in _query(tmp_path, "SELECT output FROM results")]
    assert len(outputs) == 8
    assert sum("- Tone: formal\n- Length: brief" in str(text) for text in outputs) == 1
    assert sum("- Tone: casual\n- Length: brief" in str(text) for text in outputs) == 1
    # The other prompt writes the JSON as it is.
    assert any('{"tone":"authentic","length":"moderate"}' in str(text) for text in outputs)


def test_a_custom_nunjucks_filter_is_refused_at_its_line(tmp_path: Path) -> None:
    folder = tmp_path / "nunjucks-custom-filters"
    shutil.copytree(EXAMPLES / "nunjucks-custom-filters", folder)
    result = _run(
        tmp_path, folder / "promptfooconfig.yaml", ("openai:gpt-3.5-turbo=llmbench/echo",)
    )
    assert result.exit_code == 2, result.output
    prompts = folder / "prompts.txt"
    assert f"{prompts}:1: prompts[0]: the Nunjucks filter 'allcaps' is not one" in result.output
    assert f"{prompts}:3: prompts[0]: the Nunjucks filter 'allcaps'" in result.output
    assert "Traceback" not in result.output
    assert not (folder / "promptfooconfig.eval.yaml").exists()


def test_a_config_whose_every_assertion_is_skipped_exits_2(tmp_path: Path) -> None:
    folder = tmp_path / "eval-custom-grader-csv"
    shutil.copytree(EXAMPLES / "eval-custom-grader-csv", folder)
    config = folder / "promptfooconfig.yaml"
    with pytest.raises(PromptfooError) as raised:
        convert_file(config, {"openai:gpt-4.1-mini": "llmbench/echo"})
    messages = [str(problem) for problem in raised.value.problems]
    assert "no runnable check: none of the 4 assertions converted" in messages[0]
    assert all(f"{folder / 'tests.csv'}:{line}: skipped: row {line}.__expected: javascript" in
               messages[line - 1] for line in range(2, 6))  # fmt: skip
    result = _run(tmp_path, config, ("openai:gpt-4.1-mini=llmbench/echo",))
    assert result.exit_code == 2, result.output
    assert "PASS" not in result.output


@pytest.mark.parametrize("folder", sorted(RUNNABLE))
def test_each_example_runs_on_the_built_in_models(tmp_path: Path, folder: str) -> None:
    config_name, maps = RUNNABLE[folder]
    copy = tmp_path / folder
    shutil.copytree(EXAMPLES / folder, copy)
    _, conversion = _convert(folder, config_name, maps)
    result = _run(tmp_path, copy / config_name, maps)
    assert result.exit_code in (0, 1), result.output
    assert ("PASS (pass rate" in result.output) == (result.exit_code == 0)
    suite = conversion.suite
    models = set(suite["models"])
    # Tests with the same vars are one case holding the checks of all of them (said in a note).
    cases: dict[str, int] = {}
    thresholds: set[str] = set()
    for test in suite["tests"]:
        key = json.dumps([test["vars"], test.get("expected")], sort_keys=True)
        cases[key] = cases.get(key, 0) + len(test.get("checks", []))
        if "threshold" in test or "threshold" in suite:
            thresholds.add(key)
    groups = len(suite["prompts"]) * len(models)
    cells = groups * len(cases)
    assert _query(tmp_path, "SELECT count(*), sum(status = 'ok') FROM results") == [(cells, cells)]
    default_checks = len(suite.get("checks", []))
    # A case with a threshold stores one more check: its verdict on the weighted score.
    expected_checks = groups * sum(
        default_checks + own + (key in thresholds) for key, own in cases.items()
    )
    assert _query(tmp_path, "SELECT count(*) FROM checks") == [(expected_checks,)]


def _run(tmp_path: Path, config: Path, maps: tuple[str, ...]) -> Any:
    args = ["--db", str(tmp_path / "eval.db"), "import", "promptfoo", str(config), "--run"]
    for item in maps:
        args += ["--model-map", item]
    result = CliRunner().invoke(cli, args, prog_name="llmbench")
    # An exit code, never a crash (click's runner gives 1 for an exception too).
    assert result.exc_info is None or result.exc_info[0] is SystemExit, result.exc_info
    return result


def _query(tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "eval.db") as db:
        return db.execute(sql).fetchall()


def test_the_readme_table_names_every_type_and_says_what_llmbench_has() -> None:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| promptfoo type | in llmbench |") :].split("\n\n", 1)[0]
    said: dict[str, bool] = {}
    for row in table.splitlines()[2:]:
        names, what = row.strip("|").split(" | ", 1)
        for name in re.findall(r"`([^`]+)`", names):
            said[name] = not what.startswith("not converted")
    assert set(said) == set(PROMPTFOO_TYPES)
    for name, converts in said.items():
        if name != "assert-set":  # the importer's own: its members become checks
            assert check_type_exists(name) == converts, name
