"""Differences between two prompt versions, section by section, down to the word.

Pure data for a view to draw: each section has a status and line operations; a changed line
pair carries word segments flagged changed or not, whose texts join back into the two lines.
Metadata (model, params, variables, the example pool, few_shot_k) is compared too, and only
what differs is listed.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from llmbench.core.models import SECTION_NAMES, Example, PromptVersion, Variable

Status = Literal["same", "added", "removed", "changed"]

# Below this similarity two lines facing each other in a replaced block are not one line
# edited but one removed and another added.
PAIRING_RATIO = 0.4

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass(frozen=True)
class Segment:
    text: str
    changed: bool


@dataclass(frozen=True)
class LineOp:
    """One line of the diff. `same`, `removed` (old only), `added` (new only), or `changed`
    (both, with word segments for each side)."""

    kind: Status
    old: str | None = None
    new: str | None = None
    old_segments: tuple[Segment, ...] = ()
    new_segments: tuple[Segment, ...] = ()
    old_number: int | None = None
    new_number: int | None = None
    """1-based line numbers in each version's section text."""


@dataclass(frozen=True)
class SectionDiff:
    name: str
    status: Status
    lines: tuple[LineOp, ...]
    words_added: int
    words_removed: int


@dataclass(frozen=True)
class FieldDiff:
    """A metadata difference: `field` is "model", "params.<key>", "variables.<name>",
    "examples[<n>]" (1-based, the new pool's position unless removed), "few_shot_k" or
    "cacheable" (the sections marked for the provider's prompt cache)."""

    field: str
    status: Status
    old: str | None
    new: str | None


@dataclass(frozen=True)
class VersionDiff:
    old_version: int
    new_version: int
    sections: tuple[SectionDiff, ...]
    metadata: tuple[FieldDiff, ...]

    @property
    def words_added(self) -> int:
        return sum(section.words_added for section in self.sections)

    @property
    def words_removed(self) -> int:
        return sum(section.words_removed for section in self.sections)

    @property
    def changed(self) -> bool:
        return bool(self.metadata) or any(s.status != "same" for s in self.sections)


def diff_versions(old: PromptVersion, new: PromptVersion) -> VersionDiff:
    names = _section_names(old.sections, new.sections)
    return VersionDiff(
        old_version=old.version,
        new_version=new.version,
        sections=tuple(
            diff_section(name, old.sections.get(name), new.sections.get(name)) for name in names
        ),
        metadata=(
            *_diff_value("model", old.model or None, new.model or None),
            *diff_params(old.params, new.params),
            *diff_variables(old.variables, new.variables),
            *diff_examples(old.examples, new.examples),
            *_diff_value("few_shot_k", _optional(old.few_shot_k), _optional(new.few_shot_k)),
            *_diff_value(
                "cacheable", ", ".join(old.cacheable) or None, ", ".join(new.cacheable) or None
            ),
        ),
    )


def _section_names(old: dict[str, str], new: dict[str, str]) -> list[str]:
    # A section blank on both sides is no section at all, whatever whitespace it holds.
    present = {
        name
        for name in (*old, *new)
        if (old.get(name) or "").strip() or (new.get(name) or "").strip()
    }
    return [name for name in SECTION_NAMES if name in present] + sorted(
        present - set(SECTION_NAMES)
    )


def diff_section(name: str, old: str | None, new: str | None) -> SectionDiff:
    old_text, new_text = old or "", new or ""
    old_lines, new_lines = old_text.splitlines(), new_text.splitlines()
    if old_text == new_text:
        status: Status = "same"
    elif not old_text.strip():
        status = "added"
    elif not new_text.strip():
        status = "removed"
    else:
        status = "changed"
    lines = tuple(diff_lines(old_lines, new_lines))
    added = removed = 0
    for line in lines:
        if line.kind == "added":
            added += _word_count(line.new or "")
        elif line.kind == "removed":
            removed += _word_count(line.old or "")
        elif line.kind == "changed":
            added += sum(_word_count(s.text) for s in line.new_segments if s.changed)
            removed += sum(_word_count(s.text) for s in line.old_segments if s.changed)
    return SectionDiff(name, status, lines, added, removed)


def diff_lines(old: Sequence[str], new: Sequence[str]) -> list[LineOp]:
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    ops: list[LineOp] = []
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag == "equal":
            ops.extend(
                LineOp("same", old[o], new[n], old_number=o + 1, new_number=n + 1)
                for o, n in zip(range(old_start, old_end), range(new_start, new_end), strict=True)
            )
            continue
        removed = list(range(old_start, old_end))
        added = list(range(new_start, new_end))
        # Lines facing each other in a replaced block are one edited line when alike enough.
        while removed and added:
            o, n = removed[0], added[0]
            if (
                difflib.SequenceMatcher(None, old[o], new[n], autojunk=False).ratio()
                < PAIRING_RATIO
            ):
                break
            old_segments, new_segments = diff_words(old[o], new[n])
            ops.append(LineOp("changed", old[o], new[n], old_segments, new_segments, o + 1, n + 1))
            removed.pop(0)
            added.pop(0)
        ops.extend(LineOp("removed", old=old[o], old_number=o + 1) for o in removed)
        ops.extend(LineOp("added", new=new[n], new_number=n + 1) for n in added)
    return ops


def diff_words(old: str, new: str) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    """Word segments of each line; joined, each side's texts give the line back."""
    old_tokens, new_tokens = _TOKEN.findall(old), _TOKEN.findall(new)
    matcher = difflib.SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    old_segments: list[Segment] = []
    new_segments: list[Segment] = []
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        changed = tag != "equal"
        _append(old_segments, "".join(old_tokens[old_start:old_end]), changed)
        _append(new_segments, "".join(new_tokens[new_start:new_end]), changed)
    return tuple(old_segments), tuple(new_segments)


def _append(segments: list[Segment], text: str, changed: bool) -> None:
    if not text:
        return
    if segments and segments[-1].changed == changed:
        segments[-1] = Segment(segments[-1].text + text, changed)
    else:
        segments.append(Segment(text, changed))


def _word_count(text: str) -> int:
    return len(text.split())


def diff_params(old: dict[str, object], new: dict[str, object]) -> list[FieldDiff]:
    entries = []
    for key in sorted({*old, *new}):
        entries.extend(
            _diff_value(
                f"params.{key}",
                _json(old[key]) if key in old else None,
                _json(new[key]) if key in new else None,
            )
        )
    return entries


def diff_variables(old: Sequence[Variable], new: Sequence[Variable]) -> list[FieldDiff]:
    old_by_name = {variable.name: variable for variable in old}
    new_by_name = {variable.name: variable for variable in new}
    names = [v.name for v in new] + [v.name for v in old if v.name not in new_by_name]
    entries = []
    for name in names:
        before, after = old_by_name.get(name), new_by_name.get(name)
        entries.extend(
            _diff_value(
                f"variables.{name}",
                describe_variable(before) if before else None,
                describe_variable(after) if after else None,
            )
        )
    return entries


def describe_variable(variable: Variable) -> str:
    if variable.max_tokens is None:
        return variable.kind
    return f"{variable.kind}, at most {variable.max_tokens} tokens"


def diff_examples(old: Sequence[Example], new: Sequence[Example]) -> list[FieldDiff]:
    matcher = difflib.SequenceMatcher(None, list(old), list(new), autojunk=False)
    entries: list[FieldDiff] = []
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag == "equal":
            continue
        pairs = min(old_end - old_start, new_end - new_start) if tag == "replace" else 0
        for offset in range(pairs):
            entries.append(
                FieldDiff(
                    f"examples[{new_start + offset + 1}]",
                    "changed",
                    describe_example(old[old_start + offset]),
                    describe_example(new[new_start + offset]),
                )
            )
        for index in range(old_start + pairs, old_end):
            entries.append(
                FieldDiff(f"examples[{index + 1}]", "removed", describe_example(old[index]), None)
            )
        for index in range(new_start + pairs, new_end):
            entries.append(
                FieldDiff(f"examples[{index + 1}]", "added", None, describe_example(new[index]))
            )
    return entries


def describe_example(example: Example) -> str:
    return f"{example.input} → {example.output}"


def _diff_value(name: str, old: str | None, new: str | None) -> list[FieldDiff]:
    if old == new:
        return []
    if old is None:
        return [FieldDiff(name, "added", None, new)]
    if new is None:
        return [FieldDiff(name, "removed", old, None)]
    return [FieldDiff(name, "changed", old, new)]


def _optional(value: int | None) -> str | None:
    return None if value is None else str(value)


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
