"""Reading a promptfoo config's `defaultTest`: its assertions (run on every case), its vars
(merged under each test's) and its grading provider (the suite's judge), or else the judge the
llm-rubric assertions name alike."""

from __future__ import annotations

from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode

from llmbench.importers.promptfoo.cases import (
    OPTION_WHY,
    OUTPUT_TRANSFORMS,
    TEST_FIELD_WHY,
    CaseReading,
)
from llmbench.importers.promptfoo.provider_reading import ProviderReading
from llmbench.importers.yaml_nodes import line_of


class DefaultTestReading(ProviderReading, CaseReading):
    """defaultTest and the judge; the providers and cases it draws on in the readers it
    inherits."""

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
            if key not in ("assert", "vars", "options", "metadata", "threshold"):
                self.omit(value, "defaultTest", key, TEST_FIELD_WHY.get(key, "no place in a suite"))
        if "options" in fields:
            self._default_transform(fields["options"])
        if "threshold" in fields:
            threshold = self.threshold_of(self._plain(fields["threshold"], "defaultTest.threshold"))
            if threshold is None:
                self.fail(fields["threshold"], "defaultTest.threshold must be a number")
            else:
                self.default_grading["threshold"] = threshold
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
            elif key not in OUTPUT_TRANSFORMS:  # said with every assertion it stops
                self.omit(value, where, key, OPTION_WHY.get(key, "no place in a suite"))
        return judge

    def _default_transform(self, options_node: Node) -> None:
        """defaultTest's options.transform: the suite's `transform`, every case's unless the
        case has its own (promptfoo merges a test's options over defaultTest's)."""
        options = self.mapping(options_node, "defaultTest.options") or {}
        for key in OUTPUT_TRANSFORMS:
            if key in options:
                where = f"defaultTest.options.{key}"
                code = self._plain(options[key], where)
                transform = self.output_transform_of(code, options[key], where, self.shown)
                if transform:
                    self.default_grading["transform"] = transform

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
                params = self._call_params(config, config_node, where, provider_id)
                if params is None:
                    return None
                if params:
                    judge["params"] = params
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
