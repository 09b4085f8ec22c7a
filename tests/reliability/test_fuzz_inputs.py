"""Scenario 7 — hypothesis fuzzing of everything that reads user files, and of templates.

What it proves: fed arbitrary (and arbitrarily broken) input, every importer — JSON-lines calls,
usage CSV, simonw/llm logs.db files, prompt files, llm YAML templates, eval suites, dataset
files, promptfoo configs — and template rendering either succeed or raise their own clear error
type (CallImportError, PromptFileError and its SuiteError / DatasetFileError / PromptfooError,
TemplateError, DatasetError); never any other exception, so never a traceback. A refused import
writes nothing: the row counts of every table it could touch are the same afterwards.

The inputs are built from the formats' own vocabulary (their keys, columns and value types) mixed
with random text and bytes, so the fuzzer gets past the first check. max_examples is modest
(~40 per input kind) to keep the whole file at a few seconds.

Runtime: ~6 s.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import sqlite3
import string
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmbench.core.models import SECTION_NAMES, Variable, VariableKind
from llmbench.core.prompts.templates import Template, TemplateError, render_messages
from llmbench.importers.calls.common import CallImportError
from llmbench.importers.file_problems import PromptFileError
from llmbench.services.evaluation.suite import prepare_suite
from llmbench.services.imports.calls import import_file
from llmbench.services.prompts.files import import_prompts
from llmbench.store.datasets import DatasetError
from llmbench.store.db import Store, open_db

CLEAR_ERRORS = (CallImportError, PromptFileError, DatasetError)
TABLES = ("calls", "prompts", "prompt_versions", "prompt_labels", "prompt_notes", "datasets",
          "cases", "runs", "results")  # fmt: skip
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


EXAMPLES = itertools.count()


def no_price(_model: str, _ts: str) -> None:
    return None  # litellm's table stays out of a fuzz run


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with open_db(tmp_path_factory.mktemp("fuzz") / "fuzz.db") as opened:
        yield opened


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path


def _counts(store: Store) -> dict[str, int]:
    db = store.read()
    return {table: db.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0] for table in TABLES}


def _only_clear_errors(store: Store, action: Callable[[], object]) -> None:
    """Run an import: it succeeds, or raises a clear error having written nothing."""
    before = _counts(store)
    try:
        action()
    except CLEAR_ERRORS as error:
        assert str(error).strip()  # the message says something
        assert _counts(store) == before, f"a refused import wrote rows: {error}"


# -- the vocabulary of the formats ----------------------------------------------------------

text = st.text(max_size=30)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True), text
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def records(keys: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts over a format's own keys (and a few others) with values of any JSON type."""
    key = st.one_of(st.sampled_from(keys), st.text(max_size=8))
    return st.dictionaries(key, json_values, max_size=len(keys) + 2)


def yaml_text(keys: tuple[str, ...]) -> st.SearchStrategy[str]:
    document = st.one_of(records(keys), json_values)
    broken = st.text(alphabet=string.printable + "é€\u200b", max_size=120)
    return st.one_of(document.map(lambda value: yaml.safe_dump(value, allow_unicode=True)), broken)


raw_bytes = st.binary(max_size=200)

# -- call importers ---------------------------------------------------------------------------

JSONL_KEYS = ("ts", "timestamp", "created", "model", "request", "response", "body", "usage",
              "messages", "status", "cost", "custom_id", "id", "startTime", "user")  # fmt: skip


@st.composite
def jsonl_files(draw: st.DrawFn) -> bytes:
    lines = draw(
        st.lists(
            st.one_of(
                records(JSONL_KEYS).map(lambda r: json.dumps(r).encode()),
                text.map(str.encode),
                raw_bytes,
            ),
            max_size=6,
        )
    )
    return b"\n".join(lines)


@given(data=jsonl_files())
@FUZZ
def test_jsonl_calls(store: Store, folder: Path, data: bytes) -> None:
    path = folder / "calls.jsonl"
    path.write_bytes(data)
    _only_clear_errors(store, lambda: import_file(store, "jsonl", path, prices=no_price))


USAGE_COLUMNS = ("start_time", "start_time_iso", "timestamp", "date", "model", "input_tokens",
                 "output_tokens", "input_cached_tokens", "num_model_requests", "project_id",
                 "user_id", "api_key_id", "batch")  # fmt: skip


@st.composite
def usage_csv_files(draw: st.DrawFn) -> bytes:
    if draw(st.booleans()):
        return draw(raw_bytes)
    header = draw(st.lists(st.sampled_from(USAGE_COLUMNS), min_size=1, max_size=8, unique=True))
    cell = st.one_of(text, st.integers(-5, 10**12).map(str), st.floats().map(str))
    rows = draw(st.lists(st.lists(cell, min_size=0, max_size=len(header) + 1), max_size=5))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


@given(data=usage_csv_files())
@FUZZ
def test_usage_csv(store: Store, folder: Path, data: bytes) -> None:
    path = folder / "usage.csv"
    path.write_bytes(data)
    _only_clear_errors(store, lambda: import_file(store, "usage-csv", path, prices=no_price))


LLM_COLUMNS = ("id", "model", "resolved_model", "prompt", "system", "response", "options_json",
               "datetime_utc", "duration_ms", "input_tokens", "output_tokens",
               "conversation_id")  # fmt: skip
# llm's two layouts (tests/data/llm_logs holds real files of each): `responses` with its side
# tables, and the `turns` message tree.
LLM_TABLES = {
    "responses": LLM_COLUMNS,
    "conversations": ("id", "name"),
    "tool_calls": ("response_id", "name", "arguments", "tool_call_id"),
    "prompt_attachments": ("response_id", "attachment_id", "order"),
    "attachments": ("id", "type", "path", "url", "content"),
    "turns": ("id", "thread_id", "parent_message_hash", "tip_message_hash", "model",
              "input_tokens", "output_tokens", "duration_ms", "datetime_utc"),
    "messages": ("hash", "parent_hash", "role"),
    "parts": ("message_hash", "position", "type", "text", "payload"),
    "turn_fragments": ("turn_id", "fragment_id", "order", "kind"),
    "fragments": ("id", "hash", "content"),
}  # fmt: skip
sql_values = st.one_of(
    st.none(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False), text, raw_bytes
)


@st.composite
def llm_logs_files(draw: st.DrawFn, path: Path) -> None:
    """Not SQLite at all, or a logs.db with any of llm's tables (`responses` with any of its
    columns, the others whole) of any values."""
    if draw(st.booleans()) and draw(st.booleans()):
        path.write_bytes(draw(raw_bytes))
        return
    conn = sqlite3.connect(path)
    for table, names in draw(
        st.lists(st.sampled_from(tuple(LLM_TABLES.items())), min_size=1, unique=True)
    ):
        # The other tables whole or not at all, so a fuzzed file can reach their reading.
        columns = (
            draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
            if table == "responses"
            else names
        )
        conn.execute(f"CREATE TABLE {table} ({', '.join(f'[{c}]' for c in columns)})")
        for _ in range(draw(st.integers(0, 4))):
            values = [draw(sql_values) for _ in columns]
            marks = ", ".join("?" * len(columns))
            conn.execute(f"INSERT INTO {table} VALUES ({marks})", values)
    conn.commit()
    conn.close()


@given(data=st.data())
@FUZZ
def test_llm_logs(store: Store, folder: Path, data: st.DataObject) -> None:
    path = folder / f"logs-{next(EXAMPLES)}.db"  # a new file each time: nothing carries over
    data.draw(llm_logs_files(path))
    _only_clear_errors(store, lambda: import_file(store, "llm-logs", path, prices=no_price))


# -- prompt files, llm templates, eval suites, datasets, promptfoo ----------------------------

PROMPT_KEYS = ("name", "description", "tags", "versions", "labels", "notes", "sections",
               "variables", "model", "params", "message", "author", "version", "created_at",
               "kind", "text", *SECTION_NAMES)  # fmt: skip
LLM_TEMPLATE_KEYS = ("system", "prompt", "model", "defaults", "options", "schema_object",
                     "extract", "fragments", "tools")  # fmt: skip


@given(document=st.one_of(yaml_text(PROMPT_KEYS), yaml_text(LLM_TEMPLATE_KEYS)))
@FUZZ
def test_prompt_files_and_llm_templates(store: Store, folder: Path, document: str) -> None:
    path = folder / "fuzzed.yaml"
    path.write_text(document, encoding="utf-8")
    _only_clear_errors(store, lambda: import_prompts(store, path, author="fuzz"))


SUITE_KEYS = ("name", "description", "prompts", "models", "tests", "dataset", "checks", "judge",
              "repeat", "concurrency", "params", "vars", "expected", "type", "value", "pairwise",
              "sections", "text", "dimensions")  # fmt: skip


@given(document=yaml_text(SUITE_KEYS))
@FUZZ
def test_eval_suites(store: Store, folder: Path, document: str) -> None:
    path = folder / "suite.eval.yaml"
    path.write_text(document, encoding="utf-8")
    _only_clear_errors(store, lambda: prepare_suite(store, path))


DATASET_COLUMNS = ("vars", "expected", "tags", "checks", "ticket", "question", "__expected",
                   "assert", "description")  # fmt: skip


@st.composite
def dataset_files(draw: st.DrawFn) -> tuple[str, bytes]:
    if draw(st.booleans()):
        lines = draw(st.lists(records(DATASET_COLUMNS).map(json.dumps), max_size=4))
        return ".jsonl", "\n".join(lines).encode() + draw(st.one_of(st.just(b""), raw_bytes))
    header = draw(st.lists(st.sampled_from(DATASET_COLUMNS), min_size=1, max_size=5, unique=True))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(draw(st.lists(st.lists(text, max_size=len(header) + 1), max_size=4)))
    return ".csv", out.getvalue().encode()


@given(file=dataset_files())
@FUZZ
def test_dataset_files(store: Store, folder: Path, file: tuple[str, bytes]) -> None:
    from llmbench.services.datasets import import_dataset

    suffix, data = file
    path = folder / f"cases{suffix}"
    path.write_bytes(data)
    _only_clear_errors(store, lambda: import_dataset(store, path))


PROMPTFOO_KEYS = ("description", "prompts", "providers", "targets", "tests", "defaultTest",
                  "vars", "assert", "type", "value", "id", "config", "label")  # fmt: skip


@given(document=yaml_text(PROMPTFOO_KEYS))
@FUZZ
def test_promptfoo_configs(folder: Path, document: str) -> None:
    from llmbench.importers.promptfoo.config import convert_file

    path = folder / "promptfooconfig.yaml"
    path.write_text(document, encoding="utf-8")
    try:
        convert_file(path)
    except PromptFileError as error:
        assert str(error).strip()


# -- templates ---------------------------------------------------------------------------------

jinja_bits = st.sampled_from(("{{ ticket }}", "{{ name | upper }}", "{% if ticket %}x{% endif %}",
                              "{{", "}}", "{%", "%}", "{# #}", "{{ 9 ** 9 ** 9 }}",
                              "{{ ''.__class__ }}", "{% for x in ticket %}{{ x }}{% endfor %}",
                              "{{ ticket * 999999 }}", "</user_input>", "\u202e"))  # fmt: skip
section_text = st.lists(st.one_of(jinja_bits, text), max_size=6).map("".join)


@given(
    sections=st.dictionaries(st.sampled_from(SECTION_NAMES), section_text, min_size=1),
    values=st.dictionaries(st.sampled_from(("ticket", "name", "other")), json_values),
    kinds=st.lists(st.sampled_from(get_args(VariableKind)), max_size=2),
)
@settings(max_examples=150, deadline=None)
def test_template_rendering(
    sections: dict[str, str], values: dict[str, Any], kinds: list[str]
) -> None:
    variables = tuple(
        Variable(name, kind) for name, kind in zip(("ticket", "name"), kinds, strict=False)
    )
    template = Template(sections=sections, variables=variables)
    try:
        messages = render_messages(template, values, count=len)
    except TemplateError as error:
        assert str(error).strip()
        return
    assert all(isinstance(m["content"], str) for m in messages)


def test_a_suite_over_an_empty_dataset_is_refused_without_saving_its_prompt(
    store: Store, folder: Path
) -> None:
    from llmbench.store import datasets

    store.write(lambda db: datasets.create_dataset(db, "empty-for-fuzz"))
    path = folder / "empty.eval.yaml"
    path.write_text(
        "name: empty\nprompts:\n  - name: fresh-inline-prompt\n    text: 'Hi {{ ticket }}'\n"
        "models: [llmbench/echo]\ndataset: empty-for-fuzz\n",
        encoding="utf-8",
    )
    before = _counts(store)
    with pytest.raises(PromptFileError, match="the dataset is empty"):
        prepare_suite(store, path)
    assert _counts(store) == before
