"""A promptfoo config (promptfooconfig.yaml) as an llmbench eval suite, read as promptfoo 0.123.1
reads it: YAML 1.2 (js-yaml), every `$ref` resolved first (refs.py).

What converts: `description`; `prompts` (Nunjucks text, marked for Nunjucks rendering;
`file://` .txt/.md/.j2 files — a .txt file split on `---` lines —, a path promptfoo takes for a
file, chat-format JSON/YAML with at most one system and one user message, and {id, raw, label}
objects); `providers`/`targets` (ids such as `openai:gpt-4o-mini`,
`anthropic:messages:claude-...`, `ollama:chat:llama3`, and objects with `config`: call params
such as temperature and max_tokens); `tests` (inline, or `file://` .csv, .yaml, .json or
.jsonl, with `vars` — list values expand into one test per combination as promptfoo does —,
`assert`, `description`, `metadata`); `defaultTest` (its `assert` runs on every case, its
`vars` are merged under each test's, its `options.provider` is the judge);
`evaluateOptions.maxConcurrency` and `.repeat`. Assertions: see assertions.py.

What does not convert is listed by name with where it was (`tests[2].assert[1]: webhook`),
never dropped silently; an API key in a config is refused, a config whose every assertion is
skipped is refused (every cell would pass), and nothing is written. Template variables go in as
they are (trusted), as promptfoo sends them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode

from llmbench.importers.file_problems import FileProblem, PromptFileError
from llmbench.importers.promptfoo.cases import CaseDoc, test_data
from llmbench.importers.promptfoo.default_test import DefaultTestReading
from llmbench.importers.promptfoo.prompts import PromptReading
from llmbench.importers.promptfoo.reading import ConvertedAssertion, Omission, PromptfooError
from llmbench.importers.promptfoo.refs import resolve_refs
from llmbench.importers.yaml_nodes import InvalidValue, line_of, load_document

_TOP_KEYS = ("description", "prompts", "providers", "targets", "tests", "defaultTest")
# Read only through the `$ref`s that name them (resolved before anything else is read).
_REFERENCED_KEYS = ("assertionTemplates",)


@dataclass(frozen=True)
class Conversion:
    source: Path
    suite: dict[str, Any]
    omitted: tuple[Omission, ...]  # not converted
    notes: tuple[Omission, ...]  # converted approximately, or with a field left out
    mapped: tuple[tuple[str, str], ...] = ()  # --model-map entries used: (from, to)
    converted: tuple[ConvertedAssertion, ...] = ()  # every assertion that is a check

    def checks(self) -> int:
        """The checks of the suite: defaultTest's once, and each case's own."""
        return len(self.suite.get("checks", ())) + sum(
            len(test.get("checks", ())) for test in self.suite["tests"]
        )

    def summary(self) -> str:
        checks = self.checks()
        return (
            f"{len(self.suite['prompts'])} prompts, {len(self.suite['models'])} models, "
            f"{len(self.suite['tests'])} tests, {checks} checks; "
            f"{len(self.omitted)} not converted, {len(self.notes)} approximated"
        )


def parse_model_map(items: Iterable[str]) -> dict[str, str]:
    """FROM=TO pairs; ValueError names a bad one."""
    mapping: dict[str, str] = {}
    for item in items:
        source, separator, target = item.partition("=")
        if not separator or not source.strip() or not target.strip():
            raise ValueError(
                f"--model-map {item!r}: use FROM=TO, e.g. openai:gpt-4o-mini=llmbench/mock"
            )
        mapping[source.strip()] = target.strip()
    return mapping


def convert_file(path: Path, model_map: Mapping[str, str] | None = None) -> Conversion:
    """Read a promptfoo config and convert it; PromptfooError (file:line problems) when it
    cannot be read, holds an API key, or leaves nothing that can run."""
    shown = str(path)
    try:
        # YAML 1.2, as promptfoo's js-yaml reads it: `Yes` is text, not true.
        root = resolve_refs(load_document(path, shown, yaml12=True), path, shown)
    except PromptFileError as error:
        raise PromptfooError(error.problems) from None
    return _Converter(path, dict(model_map or {})).convert(root)


# -- the converter ---------------------------------------------------------------------------


class _Converter(PromptReading, DefaultTestReading):
    """The whole config and its evaluateOptions here; prompts, tests, providers, defaultTest
    and the judge in the readers it inherits."""

    def __init__(self, path: Path, model_map: dict[str, str]) -> None:
        super().__init__(path)
        self.model_map = model_map
        self.used_map: dict[str, str] = {}

    # the whole config

    def convert(self, root: Node) -> Conversion:
        top = self.mapping(root, "the promptfoo config")
        if top is None:
            raise PromptfooError(self.reader.problems)
        for key, node in top.items():
            if key not in _TOP_KEYS + _REFERENCED_KEYS and key != "evaluateOptions":
                self.omit(
                    node, key, _summary(key, node), _TOP_LEVEL_WHY.get(key, "no place in a suite")
                )
        description = self._text(top.get("description"), "description")
        name = description.strip() or self.base.resolve().name or self.path.stem
        if "providers" in top and "targets" in top:
            self.fail(top["targets"], "give providers or targets, not both")
        providers_node = top.get("providers", top.get("targets"))
        models, params = self._providers(providers_node, root)
        prompts = self._prompts(top.get("prompts"), root, name)
        default_checks, default_vars, judge = self._default_test(top.get("defaultTest"))
        tests = self._tests(top.get("tests"), default_vars)
        repeat, concurrency = self._evaluate_options(top.get("evaluateOptions"))
        judge = judge or self._assertion_judge()
        if self.reader.problems:
            raise PromptfooError(self.reader.problems)
        unused = sorted(set(self.model_map) - set(self.used_map))
        if unused:
            raise PromptfooError(
                [
                    FileProblem(
                        self.shown,
                        1,
                        f"--model-map {item!r}: no provider or grader of the config is called that",
                    )
                    for item in unused
                ]
            )
        self._note_merged_tests(tests)
        self._require_runnable(root, prompts, models, tests)
        self._require_checks(root, default_checks, tests)
        suite: dict[str, Any] = {"name": name}
        if description.strip() and description.strip() != name:
            suite["description"] = description.strip()
        suite["prompts"] = prompts
        suite["models"] = models
        # A provider's tools are the suite's own keys, checked as the suite is read.
        suite.update({key: params.pop(key) for key in ("tools", "tool_choice") if key in params})
        if params:
            suite["params"] = params
        suite["tests"] = [test_data(test) for test in tests]
        if default_checks:
            suite["checks"] = default_checks
        suite.update(self.default_grading)
        if judge:
            suite["judge"] = judge
        if repeat is not None:
            suite["repeat"] = repeat
        if concurrency is not None:
            suite["concurrency"] = concurrency
        return Conversion(
            self.path,
            suite,
            tuple(self.omitted),
            tuple(self.notes),
            tuple(self.used_map.items()),
            tuple(self.converted),
        )

    def _require_runnable(
        self, root: Node, prompts: list[Any], models: list[str], tests: list[CaseDoc]
    ) -> None:
        missing = [
            what
            for what, items in (("prompts", prompts), ("providers", models), ("tests", tests))
            if not items
        ]
        if not missing:
            return
        problems = [
            FileProblem(self.shown, line_of(root), f"nothing to run: no {what} could be converted")
            for what in missing
        ]
        problems += [
            FileProblem(
                item.path, item.line, f"not converted: {item.where}: {item.what} — {item.why}"
            )
            for item in self.omitted
        ]
        raise PromptfooError(problems)

    def _note_merged_tests(self, tests: list[CaseDoc]) -> None:
        """Tests with the same vars (and expected answer) are one case of the suite, holding
        all their checks: said beside each test merged into an earlier one."""
        first: dict[str, CaseDoc] = {}
        for test in tests:
            key = json.dumps([test.vars, test.expected], sort_keys=True, default=str)
            earlier = first.setdefault(key, test)
            if earlier is test or earlier.origin == test.origin:
                continue
            path, line, where = test.origin
            self.note(
                line,
                where,
                "test",
                f"the same vars as {earlier.origin[2]}: llmbench runs them as one case, holding"
                " the checks of both (promptfoo runs each test on its own output)",
                path=path,
            )

    def _require_checks(
        self, root: Node, default_checks: list[dict[str, Any]], tests: list[CaseDoc]
    ) -> None:
        """A config whose assertions all failed to convert would pass every cell: refused."""
        if default_checks or any(test.checks for test in tests) or self.converted:
            return
        skipped = [item for item in self.omitted if ".assert[" in item.where or "__expected" in
                   item.where]  # fmt: skip
        if not skipped:
            return
        problems = [
            FileProblem(
                self.shown,
                line_of(root),
                f"no runnable check: none of the {len(skipped)} assertions converted, so every"
                " cell would pass",
            )
        ]
        problems += [
            FileProblem(item.path, item.line, f"skipped: {item.where}: {item.what} — {item.why}")
            for item in skipped
        ]
        raise PromptfooError(problems)

    # evaluateOptions

    def _evaluate_options(self, node: Node | None) -> tuple[int | None, int | None]:
        if node is None:
            return None, None
        fields = self.mapping(node, "evaluateOptions") or {}
        repeat = concurrency = None
        for key, value in fields.items():
            if key in ("repeat", "maxConcurrency"):
                try:
                    number = self.reader.integer(value, f"evaluateOptions.{key}")
                except InvalidValue as error:
                    self.fail(error.node, error.message)
                    continue
                if key == "repeat":
                    repeat = number
                else:
                    concurrency = number
            else:
                self.omit(value, "evaluateOptions", key, "no place in a suite")
        return repeat, concurrency


# -- helpers ---------------------------------------------------------------------------------

_TOP_LEVEL_WHY = {
    "scenarios": "scenarios are not converted",
    "extensions": "extensions run code",
    "env": "environment variables are not copied; set them in your shell or `llmbench keys set`",
    "nunjucksFilters": "custom Nunjucks filters run JavaScript; a prompt that uses one is refused",
    "filters": "custom Nunjucks filters run JavaScript; a prompt that uses one is refused",
    "outputPath": "use `llmbench eval -o FILE`",
    "derivedMetrics": "derived metrics are not converted",
    "redteam": "red teaming is not converted",
    "sharing": "no sharing in llmbench",
    "tags": "suite tags are not converted",
    "metadata": "suite metadata is not converted",
    "commandLineOptions": "no place in a suite",
}


def _summary(key: str, node: Node) -> str:
    if key == "env" and isinstance(node, MappingNode):
        names = [k.value for k, _ in node.value if isinstance(k, ScalarNode)]
        # Names only: their values may be keys.
        return f"env ({', '.join(names)})" if names else "env"
    return key
