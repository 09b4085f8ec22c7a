"""Answers shaped like the JSON template a prompt spells out, the way a model follows one.

Prompts that want structured output often show the object with placeholders in angle
brackets: `{"relevance": {"score": <integer 1 to 5>, "reason": "<one sentence>"}}` or
`{"winner": "<A, B or tie>"}`. `find_template` finds such an object in the prompt (the last one
that parses once its placeholders are stood in for) and `fill_template` answers it: integers
and numbers within the range given, one of the choices offered, a boolean, or a sentence.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

_PLACEHOLDER = re.compile(r'"<([^<>"\n]{1,80})>"|<([^<>"\n]{1,80})>')
_STAND_IN = "\x00placeholder:"
_INTEGER = re.compile(r"^(?:an?\s+)?(?:integer|int|whole number)(?:\s+(-?\d+)\s+to\s+(-?\d+))?$")
_NUMBER = re.compile(
    r"^(?:an?\s+)?(?:number|float|decimal)(?:\s+(-?\d+(?:\.\d+)?)\s+to\s+(-?\d+(?:\.\d+)?))?$"
)
_BOOLEAN = re.compile(r"^(?:true or false|boolean|bool|true/false)$")
_CHOICE_SPLIT = re.compile(r"\s*(?:\||,|\bor\b)\s*")
MAX_CHOICE_CHARS = 24

Sentence = Callable[[], str]


@dataclass(frozen=True)
class Template:
    shape: object  # the parsed object, each placeholder a stand-in string
    placeholders: tuple[str, ...]  # their texts, by stand-in number


def find_template(text: str) -> Template | None:
    for block in reversed(_object_blocks(text)):
        if "<" not in block or ":" not in block:
            continue
        found = _parsed(block)
        if found is not None:
            return found
    return None


def _parsed(block: str) -> Template | None:
    placeholders: list[str] = []

    def stand_in(match: re.Match[str]) -> str:
        placeholders.append((match.group(1) or match.group(2)).strip())
        return json.dumps(f"{_STAND_IN}{len(placeholders) - 1}")

    try:
        shape = json.loads(_PLACEHOLDER.sub(stand_in, block))
    except ValueError:
        return None
    if not placeholders or not isinstance(shape, dict):
        return None
    return Template(shape, tuple(placeholders))


def fill_template(template: Template, rng: random.Random, sentence: Sentence) -> object:
    def fill(value: object) -> object:
        if isinstance(value, dict):
            return {key: fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [fill(item) for item in value]
        if isinstance(value, str) and value.startswith(_STAND_IN):
            index = int(value.removeprefix(_STAND_IN))
            return placeholder_value(template.placeholders[index], rng, sentence)
        return value

    return fill(template.shape)


def placeholder_value(text: str, rng: random.Random, sentence: Sentence) -> object:
    lowered = text.lower().strip()
    integer = _INTEGER.match(lowered)
    if integer:
        low, high = (int(integer[1]), int(integer[2])) if integer[1] else (1, 10)
        return rng.randint(min(low, high), max(low, high))
    number = _NUMBER.match(lowered)
    if number:
        low, high = (float(number[1]), float(number[2])) if number[1] else (0.0, 1.0)
        return round(rng.uniform(min(low, high), max(low, high)), 2)
    if _BOOLEAN.match(lowered):
        return rng.random() < 0.5
    choices = [part.strip("\"' ") for part in _CHOICE_SPLIT.split(text) if part.strip("\"' ")]
    if len(choices) >= 2 and all(len(choice) <= MAX_CHOICE_CHARS for choice in choices):
        return rng.choice(choices)
    return sentence()


def _object_blocks(text: str) -> list[str]:
    """Every outermost `{...}` of the text, in order."""
    blocks: list[str] = []
    depth, start = 0, -1
    for index, char in enumerate(text):
        if char == "{":
            if depth == 0:
                start = index
            depth += 1
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                blocks.append(text[start : index + 1])
    return blocks
