"""A promptfoo config (promptfooconfig.yaml) as an llmbench eval suite.

What converts: `description`; `prompts` (inline Nunjucks text, `file://` .txt/.md/.j2 files —
a .txt file split on `---` lines —, chat-format JSON/YAML with at most one system and one user
message, and {id, raw, label} objects); `providers`/`targets` (ids such as
`openai:gpt-4o-mini`, `anthropic:messages:claude-...`, `ollama:chat:llama3`, and objects with
`config`: call params such as temperature and max_tokens); `tests` (inline, or `file://` .csv,
.yaml, .json or .jsonl, with `vars` — list values expand into one test per combination as
promptfoo does —, `assert`, `description`, `metadata`); `defaultTest` (its `assert` runs on
every case, its `vars` are merged under each test's, its `options.provider` is the judge);
`evaluateOptions.maxConcurrency` and `.repeat`. Assertions: see promptfoo_assertions.

What does not convert is listed by name with where it was (`tests[2].assert[1]: javascript`),
never dropped silently; an API key in a config is refused, and nothing is written.
Template variables go in as they are (trusted), as promptfoo sends them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from llmbench.importers.eval_suite import parse_suite
from llmbench.importers.promptfoo.cases import TEST_FIELD_WHY, CaseDoc, CaseReading, test_data
from llmbench.importers.promptfoo.prompts import PromptReading
from llmbench.importers.promptfoo.providers import (
    SecretInConfig,
    litellm_model,
    provider_config,
)
from llmbench.importers.promptfoo.reading import Omission, PromptfooError, shown_path
from llmbench.importers.prompts.files import (
    FileProblem,
    InvalidValue,
    PromptFileError,
    line_of,
    load_document,
)

SUITE_SUFFIX = ".eval.yaml"
HEADER = "# llmbench eval suite, converted from a promptfoo config by `llmbench import promptfoo`"
_TOP_KEYS = ("description", "prompts", "providers", "targets", "tests", "defaultTest")


@dataclass(frozen=True)
class Conversion:
    source: Path
    suite: dict[str, Any]
    omitted: tuple[Omission, ...]  # not converted
    notes: tuple[Omission, ...]  # converted approximately, or with a field left out
    mapped: tuple[tuple[str, str], ...] = ()  # --model-map entries used: (from, to)

    def summary(self) -> str:
        checks = len(self.suite.get("checks", ())) + sum(
            len(test.get("checks", ())) for test in self.suite["tests"]
        )
        return (
            f"{len(self.suite['prompts'])} prompts, {len(self.suite['models'])} models, "
            f"{len(self.suite['tests'])} tests, {checks} checks; "
            f"{len(self.omitted)} not converted, {len(self.notes)} approximated"
        )


def default_output(config: Path) -> Path:
    """Where the suite goes without -o: beside the config, `<config name>.eval.yaml`."""
    return config.with_name(config.stem + SUITE_SUFFIX)


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
        root = load_document(path, shown)
    except PromptFileError as error:
        raise PromptfooError(error.problems) from None
    return _Converter(path, dict(model_map or {})).convert(root)


# -- the converter ---------------------------------------------------------------------------


class _Converter(PromptReading, CaseReading):
    """The whole config: providers, defaultTest, the judge and evaluateOptions here; prompts
    and tests in the readers it inherits."""

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
            if key not in _TOP_KEYS and key != "evaluateOptions":
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
        self._require_runnable(root, prompts, models, tests)
        suite: dict[str, Any] = {"name": name}
        if description.strip() and description.strip() != name:
            suite["description"] = description.strip()
        suite["prompts"] = prompts
        suite["models"] = models
        if params:
            suite["params"] = params
        suite["tests"] = [test_data(test) for test in tests]
        if default_checks:
            suite["checks"] = default_checks
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

    # providers

    def _model(self, provider_id: str, label: str = "") -> str | None:
        for key in (provider_id, label):
            if key and key in self.model_map:
                self.used_map[key] = self.model_map[key]
                return _target(self.model_map[key])
        model = litellm_model(provider_id)
        if model is not None and model in self.model_map:
            self.used_map[model] = self.model_map[model]
            return _target(self.model_map[model])
        return model

    def _providers(self, node: Node | None, root: Node) -> tuple[list[str], dict[str, Any]]:
        if node is None:
            self.fail(root, "the config names no providers (or targets)")
            return [], {}
        items = self._listed(node, "providers")
        models: list[str] = []
        configs: list[tuple[dict[str, Any], str, Node]] = []
        for index, item in enumerate(items):
            where = f"providers[{index}]"
            entry = self._provider_entry(item, where)
            if entry is None:
                continue
            provider_id, label, config_node, extra = entry
            for key, value_node in extra.items():
                self.omit(
                    value_node, where, key, _PROVIDER_FIELD_WHY.get(key, "no place in a suite")
                )
            model = self._model(provider_id, label)
            if model is None:
                self.omit(
                    item,
                    where,
                    provider_id,
                    f"not a model llmbench can call (map it: --model-map '{provider_id}=MODEL')",
                )
                continue
            params: dict[str, Any] = {}
            if config_node is not None:
                config = self._plain(config_node, f"{where}.config")
                if not isinstance(config, dict):
                    if config is not None:
                        self.fail(config_node, f"{where}.config must be a mapping")
                    config = {}
                try:
                    converted = provider_config(config, f"{where}.config", provider_id)
                except SecretInConfig as error:
                    self.fail(config_node, str(error))
                    continue
                params = converted.params
                for key in converted.ignored:
                    self.omit(
                        config_node, f"{where}.config", key, "not a call param llmbench passes on"
                    )
            if model in models:
                self.note(item, where, provider_id, f"also runs as {model}: run once")
                continue
            models.append(model)
            configs.append((params, where, item))
        return models, self._shared_params(configs)

    def _shared_params(self, configs: list[tuple[dict[str, Any], str, Node]]) -> dict[str, Any]:
        """Params every provider sets alike; the suite's params apply to every model."""
        if not configs:
            return {}
        keys = sorted({key for params, _, _ in configs for key in params})
        shared: dict[str, Any] = {}
        for key in keys:
            values = [params.get(key, _ABSENT) for params, _, _ in configs]
            if all(value == values[0] for value in values) and values[0] is not _ABSENT:
                shared[key] = values[0]
                continue
            for params, where, node in configs:
                if key in params:
                    self.omit(
                        node,
                        f"{where}.config",
                        key,
                        "differs between providers, and a suite's params apply to every model",
                    )
        return shared

    def _provider_entry(
        self, node: Node, where: str
    ) -> tuple[str, str, Node | None, dict[str, Node]] | None:
        """(id, label, config node, other fields) of one provider entry."""
        if isinstance(node, ScalarNode):
            text = self._text(node, where).strip()
            if not text:
                self.fail(node, f"{where}: an empty provider id")
                return None
            if text.startswith("file://"):
                self.omit(
                    node, where, text, "providers from a file are not read; list them in the config"
                )
                return None
            return text, "", None, {}
        fields = self.mapping(node, where)
        if fields is None:
            return None
        if "id" not in fields and len(fields) == 1:
            # promptfoo's {"openai:gpt-4o": {config: ...}} form.
            ((key, value),) = fields.items()
            inner = self.mapping(value, f"{where}.{key}") if isinstance(value, MappingNode) else {}
            if inner is None:
                return None
            fields = {**inner}
            provider_id = key
        elif "id" in fields:
            provider_id = self._text(fields["id"], f"{where}.id").strip()
        else:
            self.fail(node, f"{where}: a provider object needs an id")
            return None
        label = self._text(fields.get("label"), f"{where}.label").strip()
        extra = {
            key: value for key, value in fields.items() if key not in ("id", "label", "config")
        }
        if not provider_id:
            self.fail(node, f"{where}: an empty provider id")
            return None
        return provider_id, label, fields.get("config"), extra

    # defaultTest, the judge, evaluateOptions

    def _default_test(
        self, node: Node | None
    ) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any] | None]:
        """defaultTest's checks (on every case), vars (under each test's) and judge."""
        if node is None:
            return [], {}, None
        if isinstance(node, ScalarNode):
            reference = self._text(node, "defaultTest")
            self.omit(node, "defaultTest", reference, "a defaultTest file is not read; inline it")
            return [], {}, None
        fields = self.mapping(node, "defaultTest")
        if fields is None:
            return [], {}, None
        for key, value in fields.items():
            if key not in ("assert", "vars", "options", "metadata"):
                self.omit(value, "defaultTest", key, TEST_FIELD_WHY.get(key, "no place in a suite"))
        checks = self._assertions(fields.get("assert"), "defaultTest.assert")
        variables: dict[str, Any] = {}
        if "vars" in fields:
            data = self._plain(fields["vars"], "defaultTest.vars")
            if isinstance(data, dict):
                line = line_of(fields["vars"])
                variables = self._var_files(data, "defaultTest", line, self.shown) or {}
            elif data is not None:
                self.fail(fields["vars"], "defaultTest.vars must be a mapping")
        if "metadata" in fields:
            self.omit(
                fields["metadata"], "defaultTest", "metadata", "tags are per test in llmbench"
            )
        judge = self._default_judge(fields["options"]) if "options" in fields else None
        return checks, variables, judge

    def _default_judge(self, options_node: Node) -> dict[str, Any] | None:
        """The judge from defaultTest.options.provider (promptfoo's grading provider)."""
        options = self.mapping(options_node, "defaultTest.options") or {}
        judge = None
        for key, value in options.items():
            where = "defaultTest.options"
            if key == "provider":
                judge = self._judge_provider(value, f"{where}.provider")
            else:
                self.omit(value, where, key, _OPTION_WHY.get(key, "no place in a suite"))
        return judge

    def _judge_provider(self, node: Node, where: str) -> dict[str, Any] | None:
        if isinstance(node, MappingNode):
            fields = self.mapping(node, where) or {}
            if "id" not in fields and any(key in fields for key in ("text", "embedding")):
                for key in fields:
                    if key != "text":
                        self.omit(
                            fields[key], where, key, "only the text grader converts (the judge)"
                        )
                return (
                    self._judge_provider(fields["text"], f"{where}.text")
                    if "text" in fields
                    else None
                )
        entry = self._provider_entry(node, where)
        if entry is None:
            return None
        provider_id, label, config_node, extra = entry
        for key, value in extra.items():
            self.omit(value, where, key, "no place in a suite's judge")
        model = self._model(provider_id, label)
        if model is None:
            self.omit(
                node,
                where,
                provider_id,
                "not a model llmbench can call; the judge is [models] judge_model",
            )
            return None
        judge: dict[str, Any] = {"model": model}
        if config_node is not None:
            config = self._plain(config_node, f"{where}.config")
            if isinstance(config, dict):
                try:
                    converted = provider_config(config, f"{where}.config", provider_id)
                except SecretInConfig as error:
                    self.fail(config_node, str(error))
                    return None
                if converted.params:
                    judge["params"] = converted.params
                for key in converted.ignored:
                    self.omit(
                        config_node, f"{where}.config", key, "not a call param llmbench passes on"
                    )
        return judge

    def _assertion_judge(self) -> dict[str, Any] | None:
        """Without a default grader, the llm-rubric assertions' own one when they agree."""
        if not self.graders:
            return None
        models = {self._model(grader) for grader, _, _ in self.graders}
        if len(models) == 1 and None not in models:
            return {"model": models.pop()}
        for grader, where, line in self.graders:
            self.note(
                line,
                where,
                f"provider {grader}",
                "one judge grades every llm-rubric in a suite: [models] judge_model",
            )
        return None

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


# -- writing ---------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    block = "\n" in value and value.strip() and value == value.rstrip(" ") and "\t" not in value
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if block else None)


_Dumper.add_representer(str, _represent_text)


def suite_text(conversion: Conversion, output: Path | None = None) -> str:
    """The suite as commented YAML: where it came from, what did not convert and what only
    approximately, then the suite. Paths are shown relative to the suite's folder."""
    base = (output or conversion.source).parent.resolve()
    lines = [
        HEADER,
        f"# source: {shown_path(conversion.source, base)}",
        "# Run it with `llmbench eval FILE`; API keys come from the environment or"
        " `llmbench keys set`.",
    ]
    for source, target in conversion.mapped:
        lines.append(f"# --model-map: {source} -> {target}")
    if conversion.omitted:
        lines += ["#", f"# NOT CONVERTED ({len(conversion.omitted)}):"]
        lines += [f"#   {item.comment(base)}" for item in conversion.omitted]
    if conversion.notes:
        lines += ["#", f"# CONVERTED APPROXIMATELY ({len(conversion.notes)}):"]
        lines += [f"#   {item.comment(base)}" for item in conversion.notes]
    body = yaml.dump(
        conversion.suite,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    return "\n".join(line.replace("\n", " ") for line in lines) + "\n\n" + body


def check_suite_text(text: str, output: Path) -> None:
    """Read the written suite back as `llmbench eval` will; SuiteError if it would not run."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    parse_suite(node, output, str(output))


def is_converted_suite(path: Path) -> bool:
    """Whether path is a suite this importer wrote (so writing it again loses nothing)."""
    try:
        with path.open(encoding="utf-8") as file:
            return file.readline().rstrip("\n") == HEADER
    except (OSError, UnicodeDecodeError):
        return False


# -- helpers ---------------------------------------------------------------------------------

_ABSENT = object()
_TOP_LEVEL_WHY = {
    "scenarios": "scenarios are not converted",
    "extensions": "extensions run code",
    "env": "environment variables are not copied; set them in your shell or `llmbench keys set`",
    "nunjucksFilters": "custom Nunjucks filters run JavaScript",
    "outputPath": "use `llmbench eval -o FILE`",
    "derivedMetrics": "derived metrics are not converted",
    "redteam": "red teaming is not converted",
    "sharing": "no sharing in llmbench",
    "tags": "suite tags are not converted",
    "metadata": "suite metadata is not converted",
    "commandLineOptions": "no place in a suite",
}
_PROVIDER_FIELD_WHY = {
    "prompts": "a provider limited to some prompts runs all of them in a suite",
    "transform": "transforms run code",
    "delay": "the gateway paces calls by its own limits",
    "env": "environment variables are not copied",
}
_OPTION_WHY = {
    "transform": "transforms run code",
    "postprocess": "transforms run code",
    "rubricPrompt": "graded with llmbench's own judge prompt",
    "prefix": "prompt prefixes are not converted",
    "suffix": "prompt suffixes are not converted",
}


def _summary(key: str, node: Node) -> str:
    if key == "env" and isinstance(node, MappingNode):
        names = [k.value for k, _ in node.value if isinstance(k, ScalarNode)]
        # Names only: their values may be keys.
        return f"env ({', '.join(names)})" if names else "env"
    return key


def _target(model: str) -> str:
    """A --model-map target: a litellm/llmbench model name, or a promptfoo id to convert."""
    if ":" in model and "/" not in model:
        return litellm_model(model) or model
    return model
