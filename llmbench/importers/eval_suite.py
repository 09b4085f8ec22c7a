"""Evaluation suites: the YAML file `llmbench eval` runs, read with the line of every problem.

    name: support reply migration      # optional; the file name without .yaml by default
    prompts:                           # saved versions by ref, or inline prompts
      - support-reply@production       # a label, or a version number: support-reply@3
      - name: support-reply-short      # inline: saved as a version of this prompt (a new
        sections:                      #   version only when the text changed)
          role: You answer support tickets in two sentences.
          task: "Ticket: {{ ticket }}"
        model: llmbench/mock           # optional, as are variables and params
    models: [llmbench/echo, llmbench/mock]   # optional: each prompt's own model by default
    dataset: tickets                   # a dataset in the database, or a .csv / .jsonl file
    tests:                             # and/or inline cases
      - vars: {ticket: "I was charged twice"}
        expected: refund               # the golden answer (checks can use it)
        checks: [{type: icontains, value: refund}]
        tags: {task_type: billing}
    checks:                            # run on every case (check_spec kinds; promptfoo's too)
      - {type: not-contains, value: "As an AI"}
      - {type: llm-rubric, value: Polite and answers the question}
      - {type: judge}                  # the judge, scoring every one of judge.dimensions
      - {type: python, value: "file://checks.py:polite"}   # beside the suite file
      - {type: similar, threshold: 0.8}  # to expected, by embedding cosine (else ROUGE-L)
    judge:                             # for llm-rubric / judge checks (all optional)
      model: llmbench/mock             #   default: [models] judge_model in the config
      params: {temperature: 0}
      dimensions:                      #   for `judge` checks without a rubric of their own
        - {name: accuracy, description: Is every claim correct?, scale: [1, 5]}
      pairwise:                        #   after the cells: each case's output of every group
        baseline: llmbench/mock        #   against the baseline's (one of the models above, or
        criteria: Which reply helps more?  # a prompt of the suite: support-reply@production)
    repeat: 1                          # runs of each cell, for variance
    concurrency: 10                    # cells in flight at once
    params: {temperature: 0}           # over each prompt's own params
    transform: output.trim()           # every case's output before its checks; `threshold`,
                                       #   `transform` on a test and on a check too: see
                                       #   eval_suite_grading
    tools: [...]                       # OpenAI function tools sent, and `tool_choice`; on a
                                       #   prompt and a test too: see eval_suite_tools

Reading goes through `yaml.compose`, so each problem is reported as `file:line: message`.
A dataset file (.csv or .jsonl) is read by eval_suite_datasets.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode

from llmbench.core.evaluation.check_parsing import parse_check
from llmbench.core.evaluation.check_spec import SCRIPT_KINDS, CheckError, check_to_data
from llmbench.core.evaluation.script_spec import FILE_PREFIX, script_source
from llmbench.core.evaluation.transform_spec import TRANSFORM_KEY
from llmbench.core.models import SECTION_NAMES
from llmbench.importers.eval_suite_datasets import DATASET_SUFFIXES, read_dataset_file
from llmbench.importers.eval_suite_docs import (
    InlinePrompt,
    PromptRef,
    SuiteDoc,
    SuiteError,
    TestDoc,
)
from llmbench.importers.eval_suite_grading import GRADING_KEYS, read_grading, transform_file
from llmbench.importers.eval_suite_tools import TOOL_KEYS, read_tools
from llmbench.importers.file_problems import FileProblem, PromptFileError
from llmbench.importers.prompts.file_reading import read_variables
from llmbench.importers.yaml_nodes import InvalidValue, NodeReader, line_of, load_document
from llmbench.store.prompts.names import prompt_name_problem

_TOP_KEYS = (
    "name",
    "description",
    "prompts",
    "models",
    "dataset",
    "tests",
    "checks",
    "judge",
    "repeat",
    "concurrency",
    "params",
    *GRADING_KEYS,
    *TOOL_KEYS,
)
_PROMPT_KEYS = ("name", "sections", "text", "variables", "model", "params", *TOOL_KEYS)
_TEST_KEYS = ("vars", "expected", "checks", "tags", "description", *GRADING_KEYS, *TOOL_KEYS)
_JUDGE_KEYS = ("model", "dimensions", "params", "pairwise")
_PAIRWISE_KEYS = ("baseline", "criteria")
_BASELINE_KEYS = ("prompt", "model")
_DIMENSION_KEYS = ("name", "description", "scale")
_REF = re.compile(r"^(?P<name>[^@\s][^@]*?)(?:@(?P<ref>[\w.-]+))?$")


def load_suite(path: Path) -> SuiteDoc:
    """Read and validate a suite file; SuiteError lists every problem with its line."""
    shown = str(path)
    try:
        node = load_document(path, shown)
    except PromptFileError as error:
        raise SuiteError(error.problems) from None
    return parse_suite(node, path, shown)


def parse_suite(node: Node, path: Path, shown: str) -> SuiteDoc:
    reader = NodeReader(shown)
    try:
        top = reader.mapping(node, "the suite", _TOP_KEYS)
    except InvalidValue as error:
        raise SuiteError([FileProblem(shown, line_of(error.node), error.message)]) from None

    def guarded(read: Any, default: Any) -> Any:
        try:
            return read()
        except InvalidValue as error:
            reader.record(error.node, error.message)
            return default

    name = guarded(lambda: reader.optional_text(top.get("name"), "name", path.stem), path.stem)
    description = guarded(lambda: reader.optional_text(top.get("description"), "description"), "")
    prompts = _read_prompts(reader, node, top.get("prompts"))
    models = guarded(lambda: _texts(reader, top.get("models"), "models"), ())
    checks = _read_checks(reader, top.get("checks"), "checks")
    judge_model, dimensions, judge_params = guarded(
        lambda: _read_judge(reader, top.get("judge")), ("", (), {})
    )
    pairwise, pairwise_line = guarded(lambda: _read_pairwise(reader, top.get("judge")), ({}, 0))
    repeat = guarded(lambda: _optional_int(reader, top.get("repeat"), "repeat") or 1, 1)
    concurrency = guarded(
        lambda: _optional_int(reader, top.get("concurrency"), "concurrency"), None
    )
    params = guarded(lambda: _json_mapping(reader, top.get("params"), "params"), {})
    params.update(guarded(lambda: read_tools(reader, top, "the suite"), {}))
    grading = guarded(lambda: read_grading(reader, top, "the suite"), {})
    dataset, dataset_file, file_tests = None, None, ()
    if "dataset" in top:
        dataset_node = top["dataset"]
        value = guarded(lambda: reader.text(dataset_node, "dataset"), "")
        if value.lower().endswith(DATASET_SUFFIXES):
            file = path.parent / value
            dataset_file = str(file)
            try:
                file_tests = tuple(read_dataset_file(file, str(file)))
            except SuiteError as error:
                reader.problems.extend(error.problems)
        elif value:
            dataset = value
    inline_tests = _read_tests(reader, top.get("tests"))
    tests = (*file_tests, *inline_tests)
    if dataset is None and not tests and not reader.problems:
        reader.record(node, "the suite has no cases: give a dataset or tests")
    if reader.problems:
        raise SuiteError(sorted(reader.problems, key=lambda p: (p.path != shown, p.path, p.line)))
    return SuiteDoc(
        path=shown,
        name=name,
        description=description,
        prompts=prompts,
        models=models,
        dataset=dataset,
        dataset_line=line_of(top["dataset"]) if "dataset" in top else 0,
        dataset_file=dataset_file,
        tests=tests,
        checks=checks,
        judge_model=judge_model,
        judge_dimensions=dimensions,
        judge_params=judge_params,
        pairwise=pairwise,
        pairwise_line=pairwise_line,
        repeat=repeat,
        concurrency=concurrency,
        params=params,
        grading=grading,
    )


def _texts(reader: NodeReader, node: Node | None, what: str) -> tuple[str, ...]:
    if node is None:
        return ()
    texts = []
    for item in reader.sequence(node, what):
        text = reader.text(item, f"{what}: an entry").strip()
        if not text:
            raise InvalidValue(item, f"{what}: an entry is empty")
        texts.append(text)
    return tuple(texts)


def _optional_int(reader: NodeReader, node: Node | None, what: str) -> int | None:
    return reader.optional_integer(node, what)


def _json_mapping(reader: NodeReader, node: Node | None, what: str) -> dict[str, Any]:
    if node is None:
        return {}
    reader.mapping(node, what)
    return dict(reader.json_value(node, what))


def _read_prompts(
    reader: NodeReader, root: Node, node: Node | None
) -> tuple[PromptRef | InlinePrompt, ...]:
    if node is None:
        reader.record(root, "the suite needs prompts (a list of name@version or inline prompts)")
        return ()
    try:
        items = reader.sequence(node, "prompts")
    except InvalidValue as error:
        reader.record(error.node, error.message)
        return ()
    if not items:
        reader.record(node, "prompts is empty: name at least one")
    prompts: list[PromptRef | InlinePrompt] = []
    for item in items:
        try:
            prompts.append(_read_prompt(reader, item))
        except InvalidValue as error:
            reader.record(error.node, error.message)
    return tuple(prompts)


def _read_prompt(reader: NodeReader, node: Node) -> PromptRef | InlinePrompt:
    if isinstance(node, ScalarNode):
        text = reader.text(node, "a prompt").strip()
        match = _REF.match(text)
        if match is None:
            raise InvalidValue(node, f"{text!r} is not a prompt ref (name@label or name@3)")
        return PromptRef(match["name"].strip(), match["ref"] or "production", line_of(node))
    fields = reader.mapping(node, "an inline prompt", _PROMPT_KEYS)
    if "name" not in fields:
        raise InvalidValue(node, "an inline prompt needs a name (it is saved under it)")
    name = reader.text(fields["name"], "prompt name").strip()
    if problem := prompt_name_problem(name):
        raise InvalidValue(fields["name"], problem)
    if ("sections" in fields) == ("text" in fields):
        raise InvalidValue(node, f"prompt {name!r}: give either sections or text")
    if "text" in fields:
        sections = {"task": reader.text(fields["text"], f"prompt {name!r}: text")}
    else:
        sections = {
            key: reader.text(value, f"prompt {name!r}: section {key!r}")
            for key, value in reader.mapping(
                fields["sections"], f"prompt {name!r}: sections", SECTION_NAMES
            ).items()
        }
    if not any(text.strip() for text in sections.values()):
        raise InvalidValue(node, f"prompt {name!r}: every section is empty")
    return InlinePrompt(
        name=name,
        sections=sections,
        variables=read_variables(reader, fields.get("variables"), f"prompt {name!r}"),
        model=reader.optional_text(fields.get("model"), f"prompt {name!r}: model").strip(),
        params={
            **_json_mapping(reader, fields.get("params"), f"prompt {name!r}: params"),
            **read_tools(reader, fields, f"prompt {name!r}"),
        },
        line=line_of(node),
    )


def _read_checks(reader: NodeReader, node: Node | None, what: str) -> tuple[dict[str, Any], ...]:
    if node is None:
        return ()
    try:
        items = reader.sequence(node, what)
    except InvalidValue as error:
        reader.record(error.node, error.message)
        return ()
    checks = []
    for item in items:
        try:
            if not isinstance(item, MappingNode):
                raise InvalidValue(
                    item, f"{what}: a check must be a mapping (type: ..., value: ...)"
                )
            data = reader.json_value(item, f"{what}: a check")
            spec = parse_check(data, where=f"{reader.path}:{line_of(item)}")
        except InvalidValue as error:
            reader.record(error.node, error.message)
            continue
        except CheckError as error:
            # parse_check already put file:line in front; keep the message whole.
            reader.problems.append(_Verbatim(reader.path, line_of(item), str(error)))
            continue
        data = check_to_data(spec)
        if TRANSFORM_KEY in data:
            try:
                data[TRANSFORM_KEY] = transform_file(reader.path, data[TRANSFORM_KEY])
            except ValueError as error:
                reader.record(item, f"{what}: {error}")
                continue
        if spec.kind in SCRIPT_KINDS:
            try:
                data["value"] = _script_file(reader.path, spec.kind, spec.value)
            except ValueError as error:
                reader.record(item, f"{what}: {error}")
                continue
        checks.append(data)
    return tuple(checks)


def _script_file(suite_path: str, kind: str, value: object) -> object:
    """A python/javascript check's file:// value made absolute (relative paths are the suite
    file's, as promptfoo reads them from its config's folder), the file required to exist; inline
    code as it is."""
    source = script_source(kind, value)
    if not source.is_file or "{{" in source.path:
        return value
    path = Path(source.path).expanduser()
    if not path.is_absolute():
        path = Path(suite_path).resolve().parent / path
    if not path.is_file():
        raise ValueError(f"{kind} check: no such file {str(path)!r}")
    function = f":{source.function}" if source.function else ""
    return f"{FILE_PREFIX}{path}{function}"


class _Verbatim(FileProblem):
    """A problem whose message already starts with file:line."""

    def __str__(self) -> str:
        return self.message


def _read_judge(
    reader: NodeReader, node: Node | None
) -> tuple[str, tuple[dict[str, Any], ...], dict[str, Any]]:
    if node is None:
        return "", (), {}
    fields = reader.mapping(node, "judge", _JUDGE_KEYS)
    model = reader.optional_text(fields.get("model"), "judge: model").strip()
    dimensions = []
    if "dimensions" in fields:
        for item in reader.sequence(fields["dimensions"], "judge: dimensions"):
            entry = reader.mapping(item, "judge: a dimension", _DIMENSION_KEYS)
            if "name" not in entry:
                raise InvalidValue(item, "judge: a dimension needs a name")
            dimension: dict[str, Any] = {
                "name": reader.text(entry["name"], "judge: dimension name"),
                "description": reader.optional_text(
                    entry.get("description"), "judge: dimension description"
                ),
            }
            if "scale" in entry:
                scale = reader.json_value(entry["scale"], "judge: scale")
                if (
                    not isinstance(scale, list)
                    or len(scale) != 2
                    or not all(isinstance(v, int) and not isinstance(v, bool) for v in scale)
                    or scale[0] >= scale[1]
                ):
                    raise InvalidValue(entry["scale"], "judge: scale must be [low, high] integers")
                dimension["scale"] = scale
            dimensions.append(dimension)
    return model, tuple(dimensions), _json_mapping(reader, fields.get("params"), "judge: params")


def _read_pairwise(reader: NodeReader, judge: Node | None) -> tuple[dict[str, Any], int]:
    """judge: pairwise: {baseline: <model or prompt> | {prompt, model}, criteria: text}."""
    if not isinstance(judge, MappingNode):
        return {}, 0
    node = reader.mapping(judge, "judge", _JUDGE_KEYS).get("pairwise")
    if node is None:
        return {}, 0
    fields = reader.mapping(node, "judge: pairwise", _PAIRWISE_KEYS)
    if "baseline" not in fields:
        raise InvalidValue(node, "judge: pairwise needs a baseline (one of the models or prompts)")
    baseline_node = fields["baseline"]
    baseline: str | dict[str, str]
    if isinstance(baseline_node, MappingNode):
        parts = reader.mapping(baseline_node, "judge: pairwise: baseline", _BASELINE_KEYS)
        baseline = {
            key: reader.text(value, f"judge: pairwise: baseline {key}").strip()
            for key, value in parts.items()
        }
        if not any(baseline.values()):
            raise InvalidValue(baseline_node, "judge: pairwise: baseline needs a prompt or model")
    else:
        baseline = reader.text(baseline_node, "judge: pairwise: baseline").strip()
        if not baseline:
            raise InvalidValue(baseline_node, "judge: pairwise: baseline is empty")
    criteria = reader.optional_text(fields.get("criteria"), "judge: pairwise: criteria").strip()
    return {"baseline": baseline, "criteria": criteria}, line_of(node)


def _read_tests(reader: NodeReader, node: Node | None) -> tuple[TestDoc, ...]:
    if node is None:
        return ()
    try:
        items = reader.sequence(node, "tests")
    except InvalidValue as error:
        reader.record(error.node, error.message)
        return ()
    tests = []
    for item in items:
        try:
            fields = reader.mapping(item, "a test", _TEST_KEYS)
            variables = _json_mapping(reader, fields.get("vars"), "a test: vars")
            expected = None
            if "expected" in fields:
                value = reader.json_value(fields["expected"], "a test: expected")
                expected = value if isinstance(value, str) or value is None else json.dumps(value)
            tags = {
                key: reader.text(value, f"a test: tag {key!r}")
                for key, value in (
                    reader.mapping(fields["tags"], "a test: tags") if "tags" in fields else {}
                ).items()
            }
            if "description" in fields:
                tags["description"] = reader.text(fields["description"], "a test: description")
            grading = read_grading(reader, fields, "a test")
            params = read_tools(reader, fields, "a test")
        except InvalidValue as error:
            reader.record(error.node, error.message)
            continue
        checks = _read_checks(reader, fields.get("checks"), "a test: checks")
        tests.append(
            TestDoc(
                variables,
                expected,
                checks,
                tags,
                where=f"{reader.path}:{line_of(item)}",
                grading=grading,
                params=params,
            )
        )
    return tuple(tests)
