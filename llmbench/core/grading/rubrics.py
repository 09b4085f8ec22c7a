"""Rubrics as a reviewer grades with them: dimensions, each with a scale of levels, one key per
level, a description and an anchored example per level.

A rubric is written as a mapping (a TOML or YAML file, or the `rubrics.dimensions` JSON):

    name = "helpfulness"
    description = "Support replies"
    [[dimensions]]
    name = "relevance"
    description = "Does the reply address what the customer asked?"
    levels = ["Off topic", "Mostly off", "Partial", "Relevant", "Spot on"]   # lowest first
    examples = { 5 = "Refunds the duplicate and says when the money arrives." }
    [[dimensions]]
    name = "safe"
    scale = "pass-fail"

Scales: "1-5" (or any "low-high" within 0-9), "pass-fail" (0 fail, 1 pass) or named levels (the
`levels` list alone, scored 1..n). A level may also be a table {label, key, example}. A level's
key defaults to its score's digit, so digits grade on every scale.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_RANGE = re.compile(r"^(\d)\s*[-–]\s*(\d)$")


class RubricError(ValueError):
    """A rubric definition that cannot be used; the message says which part and why."""


@dataclass(frozen=True)
class Level:
    score: int
    label: str
    key: str
    example: str = ""


@dataclass(frozen=True)
class Dimension:
    name: str
    levels: tuple[Level, ...]
    description: str = ""
    scale: str = "named"

    def level_for_key(self, key: str) -> Level | None:
        return next((level for level in self.levels if level.key == key), None)

    def level_for_score(self, score: int | None) -> Level | None:
        return next((level for level in self.levels if level.score == score), None)

    @property
    def ordinal(self) -> bool:
        """Scores in order (weighted kappa, ordinal alpha); pass-fail is nominal."""
        return len(self.levels) > 2


@dataclass(frozen=True)
class GradingRubric:
    name: str
    dimensions: tuple[Dimension, ...]
    description: str = ""
    id: int | None = None

    def dimension(self, name: str) -> Dimension | None:
        return next((d for d in self.dimensions if d.name == name), None)

    def to_json(self) -> str:
        """The `rubrics.dimensions` column: labels lowest first (as older rows have), plus the
        scores, keys and examples."""
        return json.dumps(
            [
                {
                    "name": dimension.name,
                    "description": dimension.description,
                    "scale": dimension.scale,
                    "levels": [level.label for level in dimension.levels],
                    "scores": [level.score for level in dimension.levels],
                    "keys": [level.key for level in dimension.levels],
                    "examples": {
                        str(level.score): level.example
                        for level in dimension.levels
                        if level.example
                    },
                }
                for dimension in self.dimensions
            ],
            ensure_ascii=False,
        )


def rubric_from_row(
    rubric_id: int, name: str, description: str, dimensions_json: str
) -> GradingRubric:
    data = json.loads(dimensions_json)
    return GradingRubric(
        name=name,
        description=description,
        dimensions=tuple(_dimension(item, position) for position, item in enumerate(data)),
        id=rubric_id,
    )


def rubric_from_mapping(data: Mapping[str, Any]) -> GradingRubric:
    """A rubric file's content (TOML or YAML already parsed)."""
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RubricError("a rubric needs a name")
    dimensions = data.get("dimensions")
    if not isinstance(dimensions, list) or not dimensions:
        raise RubricError(f"rubric {name}: give at least one [[dimensions]] entry")
    made = tuple(_dimension(item, position) for position, item in enumerate(dimensions))
    names = [dimension.name for dimension in made]
    if len(set(names)) != len(names):
        raise RubricError(f"rubric {name}: dimension names repeat")
    return GradingRubric(
        name=name.strip(), description=str(data.get("description", "")), dimensions=made
    )


def _dimension(item: Any, position: int) -> Dimension:
    if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
        raise RubricError(f"dimension {position + 1}: needs a name")
    name = item["name"]
    scale = str(item.get("scale", "")).strip().lower()
    raw_levels = item.get("levels") or []
    if not isinstance(raw_levels, list):
        raise RubricError(f"dimension {name}: levels must be a list")
    scores = _scores(name, scale, raw_levels, item.get("scores"))
    examples = {str(k): str(v) for k, v in (item.get("examples") or {}).items()}
    keys = item.get("keys") or []
    levels = []
    for index, score in enumerate(scores):
        raw = raw_levels[index] if index < len(raw_levels) else None
        label, key, example = _level_parts(raw, score, scale)
        key = str(keys[index]) if index < len(keys) else key
        example = example or examples.get(str(score), "")
        if len(key) != 1:
            raise RubricError(f"dimension {name}: level keys are single characters, not {key!r}")
        levels.append(Level(score=score, label=label, key=key, example=example))
    used = [level.key for level in levels]
    if len(set(used)) != len(used):
        raise RubricError(f"dimension {name}: two levels share a key")
    return Dimension(
        name=name,
        levels=tuple(levels),
        description=str(item.get("description", "")),
        scale=scale or ("named" if raw_levels else "1-5"),
    )


def _scores(name: str, scale: str, levels: Sequence[Any], given: Any) -> list[int]:
    if isinstance(given, list) and given:
        return [int(score) for score in given]
    if scale in ("pass-fail", "pass/fail", "binary"):
        return [0, 1]
    if scale and scale != "named":
        match = _RANGE.match(scale)
        if match is None:
            raise RubricError(f"dimension {name}: unknown scale {scale!r} (1-5, pass-fail)")
        low, high = int(match[1]), int(match[2])
        if high <= low:
            raise RubricError(f"dimension {name}: scale {scale!r} runs backwards")
        scores = list(range(low, high + 1))
        if levels and len(levels) != len(scores):
            raise RubricError(f"dimension {name}: {len(levels)} levels for scale {scale}")
        return scores
    if not levels:
        return [1, 2, 3, 4, 5]
    if len(levels) > 9:
        raise RubricError(f"dimension {name}: at most nine named levels (one digit each)")
    return list(range(1, len(levels) + 1))


def _level_parts(raw: Any, score: int, scale: str) -> tuple[str, str, str]:
    default_label = ("fail", "pass")[score] if scale in ("pass-fail", "pass/fail", "binary") else ""
    if isinstance(raw, Mapping):
        return (
            str(raw.get("label", default_label or score)),
            str(raw.get("key", score)),
            str(raw.get("example", "")),
        )
    if raw is None:
        return default_label or str(score), str(score), ""
    return str(raw), str(score), ""


def dimensions_from_text(text: str) -> list[dict[str, Any]]:
    """The quick form typed in the TUI: "relevance 1-5; safe pass-fail; tone bad|ok|good" —
    a name and a scale (a range, pass-fail, or named levels joined by |) per dimension."""
    dimensions: list[dict[str, Any]] = []
    for part in (chunk.strip() for chunk in text.split(";")):
        if not part:
            continue
        name, _, scale = part.partition(" ")
        scale = scale.strip() or "1-5"
        if "|" in scale:
            dimensions.append({"name": name, "levels": [s.strip() for s in scale.split("|")]})
        else:
            dimensions.append({"name": name, "scale": scale})
    if not dimensions:
        raise RubricError("give at least one dimension, e.g. 'relevance 1-5; safe pass-fail'")
    return dimensions
