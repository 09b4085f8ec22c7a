"""The editor's two small YAML texts: a draft's settings (model, params, variable kinds, the
few-shot pool) and the values a preview renders with. Parsing says which line is wrong."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from llmbench.core.models import VARIABLE_KINDS, Example, Variable
from llmbench.importers.bounds import load_yaml


class DraftTextError(ValueError):
    """The text does not parse; the message starts with the line."""


@dataclass(frozen=True)
class DraftSettings:
    model: str = ""
    params: Mapping[str, Any] | None = None
    variables: tuple[Variable, ...] = ()
    few_shot_k: int | None = None
    examples: tuple[Example, ...] = ()


def _dump(data: object) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=88)


def settings_text(
    model: str,
    params: Mapping[str, Any],
    variables: Sequence[Variable],
    few_shot_k: int | None,
    examples: Sequence[Example],
) -> str:
    lines = [
        "# model and params go to the gateway; variables: name: kind [max tokens]",
        f"# kinds: {', '.join(VARIABLE_KINDS)}. few_shot_k: how many of the examples to show.",
        _dump({"model": model or ""}).rstrip(),
        _dump({"params": dict(params)}).rstrip() if params else "params: {}",
    ]
    if variables:
        entries = {
            v.name: f"{v.kind} {v.max_tokens}" if v.max_tokens else v.kind for v in variables
        }
        lines.append(_dump({"variables": entries}).rstrip())
    else:
        lines.append("variables: {}")
    lines.append(f"few_shot_k: {few_shot_k if few_shot_k is not None else 'null'}")
    if examples:
        lines.append(_dump({"examples": [e.to_json() for e in examples]}).rstrip())
    else:
        lines.append("examples: []")
    return "\n".join(lines) + "\n"


def _load(text: str, what: str) -> Any:
    try:
        return load_yaml(text) if text.strip() else {}
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        line = f"line {mark.line + 1}: " if mark is not None else ""
        raise DraftTextError(f"{what}: {line}{error.problem}") from None
    except yaml.YAMLError as error:
        raise DraftTextError(f"{what}: {error}") from None


def _variable(name: object, spec: object) -> Variable:
    parts = str(spec or "trusted").split()
    kind = parts[0]
    if kind not in VARIABLE_KINDS:
        raise DraftTextError(
            f"settings: variable {name}: kind {kind!r} is not one of {', '.join(VARIABLE_KINDS)}"
        )
    max_tokens = None
    if len(parts) > 1:
        if not parts[1].isdigit() or int(parts[1]) < 1:
            raise DraftTextError(f"settings: variable {name}: max tokens must be a whole number")
        max_tokens = int(parts[1])
    return Variable(str(name), kind, max_tokens)  # type: ignore[arg-type]


def parse_settings(text: str) -> DraftSettings:
    data = _load(text, "settings")
    if not isinstance(data, dict):
        raise DraftTextError("settings: expected 'key: value' lines")
    unknown = set(data) - {"model", "params", "variables", "few_shot_k", "examples"}
    if unknown:
        raise DraftTextError(f"settings: unknown key {sorted(unknown)[0]!r}")
    params = data.get("params") or {}
    if not isinstance(params, dict):
        raise DraftTextError("settings: params must be a mapping, e.g. {temperature: 0.2}")
    variables = data.get("variables") or {}
    if not isinstance(variables, dict):
        raise DraftTextError("settings: variables must be 'name: kind' lines")
    k = data.get("few_shot_k")
    if k is not None and (not isinstance(k, int) or isinstance(k, bool) or k < 1):
        raise DraftTextError("settings: few_shot_k must be a positive whole number or null")
    examples = data.get("examples") or []
    if not isinstance(examples, list):
        raise DraftTextError("settings: examples must be a list of {input, output}")
    try:
        pool = tuple(Example.from_json(item) for item in examples)
    except ValueError as error:
        raise DraftTextError(f"settings: {error}") from None
    return DraftSettings(
        model=str(data.get("model") or ""),
        params=params,
        variables=tuple(_variable(name, spec) for name, spec in variables.items()),
        few_shot_k=k,
        examples=pool,
    )


def values_text(values: Mapping[str, object]) -> str:
    if not values:
        return "# name: value, one per line (use | for several lines)\n"
    return _dump({name: value for name, value in values.items()})


def parse_values(text: str) -> dict[str, object]:
    data = _load(text, "values")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DraftTextError("values: expected 'name: value' lines")
    return {str(name): "" if value is None else value for name, value in data.items()}
