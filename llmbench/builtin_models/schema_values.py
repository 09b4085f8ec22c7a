"""A value that follows a JSON schema, drawn from a seeded random generator: what the mock
model answers for `response_format` schemas and writes as a tool call's arguments."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

_MAX_DEPTH = 4


def value_from_schema(
    schema: Mapping[str, object],
    rng: random.Random,
    text: Callable[[], object],
    *,
    required_only: bool = False,
    depth: int = 0,
) -> object:
    """`text()` gives each string; with `required_only`, an object holds its required
    properties (all of them when it names none)."""
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return rng.choice(enum)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((item for item in kind if item != "null"), "string")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties")
        if not isinstance(properties, Mapping) or depth > _MAX_DEPTH:
            return {}
        required = schema.get("required")
        names = list(properties)
        if required_only and isinstance(required, list):
            names = [name for name in names if name in required] or names
        return {
            name: value_from_schema(
                properties[name], rng, text, required_only=required_only, depth=depth + 1
            )
            if isinstance(properties[name], Mapping)
            else text()
            for name in names
        }
    if kind == "array":
        items = schema.get("items")
        item_schema = items if isinstance(items, Mapping) else {"type": "string"}
        return [
            value_from_schema(item_schema, rng, text, required_only=required_only, depth=depth + 1)
            for _ in range(rng.randint(1, 3))
        ]
    if kind == "integer":
        return rng.randint(1, 10)
    if kind == "number":
        return round(rng.random(), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    return text()
