"""Reading a promptfoo config's `providers` (or `targets`) into the suite's models and their
shared call params, with `--model-map` applied; fields that have no place in a suite are
listed as not converted, and a config holding an API key is refused."""

from __future__ import annotations

from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode

from llmbench.importers.promptfoo.assertions import Unconvertible
from llmbench.importers.promptfoo.providers import (
    SecretInConfig,
    litellm_model,
    provider_config,
)
from llmbench.importers.promptfoo.reading import ConfigReader, read_value

_ABSENT = object()
_PROVIDER_FIELD_WHY = {
    "prompts": "a provider limited to some prompts runs all of them in a suite",
    "transform": "transforms run code",
    "delay": "the gateway paces calls by its own limits",
    "env": "environment variables are not copied",
}


class ProviderReading(ConfigReader):
    """Providers, and the `--model-map` entries used to name their models."""

    model_map: dict[str, str]  # --model-map: promptfoo id or label -> model
    used_map: dict[str, str]  # the entries of model_map that named a provider or grader

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
                call_params = self._call_params(config, config_node, where, provider_id)
                if call_params is None:
                    continue
                params = call_params
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

    def _call_params(
        self, config: dict[str, Any], config_node: Node, where: str, provider_id: str
    ) -> dict[str, Any] | None:
        """The call params of a provider's config, each field it cannot pass on listed as not
        converted; None (the problem recorded) when the config holds an API key."""
        tools = config.get("tools")
        if isinstance(tools, str) and tools.startswith("file://"):
            # promptfoo reads tools from a JSON or YAML file beside the config.
            try:
                config = {**config, "tools": read_value(self.base, tools.strip())}
            except Unconvertible as error:
                self.omit(config_node, f"{where}.config", "tools", str(error))
                config = {key: value for key, value in config.items() if key != "tools"}
        try:
            converted = provider_config(config, f"{where}.config", provider_id)
        except SecretInConfig as error:
            self.fail(config_node, str(error))
            return None
        for key in converted.ignored:
            why = converted.why.get(key, "not a call param llmbench passes on")
            self.omit(config_node, f"{where}.config", key, why)
        return converted.params


def _target(model: str) -> str:
    """A --model-map target: a litellm/llmbench model name, or a promptfoo id to convert."""
    if ":" in model and "/" not in model:
        return litellm_model(model) or model
    return model
