"""Reading the assertions of a test (or of defaultTest) into checks: each one becomes a check or
is listed, with its file and line, as not converted and why; none is lost.

`assert-set` without a threshold passes when all of its assertions pass: its assertions become
checks of the test, their weights scaled so that the case's weighted score is promptfoo's (the
set counts `weight` in all, shared as its members' weights are). With a threshold the set passes
on a share of its members, which no llmbench check does: it is listed as not converted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from yaml.nodes import Node, SequenceNode

from llmbench.importers.promptfoo.assertions import (
    Converted,
    Unconvertible,
    assertion_type,
    convert_assertion,
)
from llmbench.importers.promptfoo.reading import ConfigReader, ConvertedAssertion, read_value
from llmbench.importers.yaml_nodes import line_of

ASSERT_SET = "assert-set"
_SET_KEYS = frozenset({"type", "assert", "weight", "metric", "threshold"})


class AssertionReading(ConfigReader):
    """Assertions into checks, keeping a record of every one (converted or not)."""

    def _assertions(
        self, node: Node | None, where: str, *, path: str = "", skip: str = ""
    ) -> list[dict[str, Any]]:
        """The checks of an `assert` list. With `skip`, none converts: each is listed with that
        reason (a transform of the whole test, for one)."""
        if node is None:
            return []
        path = path or self.shown
        if not isinstance(node, SequenceNode):
            self.fail(node, f"{where} must be a list of assertions", path=path)
            return []
        checks: list[dict[str, Any]] = []
        for index, item in enumerate(node.value):
            place = f"{where}[{index}]"
            data = self._plain(item, place, path=path)
            if not isinstance(data, dict):
                if data is not None:
                    self.fail(
                        item,
                        f"{place}: an assertion must be a mapping (type: ..., value: ...)",
                        path=path,
                    )
                continue
            checks += self._assertion(data, place, line_of(item), path, skip)
        return checks

    def _assertion(
        self, data: dict[str, Any], where: str, line: int, path: str, skip: str
    ) -> list[dict[str, Any]]:
        if data.get("type") == ASSERT_SET:
            return self._assert_set(data, where, line, path, skip)
        if skip:
            self.omit(line, where, assertion_type(data), skip, path=path)
            return []
        check = self._one_assertion(data, where, line, path)
        return [] if check is None else [check]

    def _assert_set(
        self, data: dict[str, Any], where: str, line: int, path: str, skip: str
    ) -> list[dict[str, Any]]:
        members = data.get("assert")
        if not isinstance(members, list) or not members:
            self.omit(
                line, where, ASSERT_SET, "an assert-set needs a list of assertions", path=path
            )
            return []
        if skip or "threshold" in data or set(data) - _SET_KEYS:
            extra = sorted(set(data) - _SET_KEYS)
            why = skip or (
                f"its threshold ({data.get('threshold')}) passes the set on a share of its"
                " assertions; an llmbench case passes only when every check does"
                if "threshold" in data
                else f"its field {extra[0]!r} has no place in a suite"
            )
            for index, member in enumerate(members):
                name = assertion_type(member) if isinstance(member, dict) else "?"
                self.omit(line, f"{where}.assert[{index}]", name, why, path=path)
            return []
        weights = [_weight(member) for member in members]
        total = sum(weights)
        share = _weight(data)
        checks = []
        for index, (member, weight) in enumerate(zip(members, weights, strict=True)):
            place = f"{where}.assert[{index}]"
            if not isinstance(member, dict):
                self.omit(line, place, "?", "an assertion must be a mapping", path=path)
                continue
            scaled = dict(member)
            if total > 0:
                scaled["weight"] = round(share * weight / total, 12)
            if "metric" in data and "metric" not in scaled:
                scaled["metric"] = data["metric"]
            checks += self._assertion(scaled, place, line, path, "")
        return checks

    def _one_assertion(
        self, data: dict[str, Any], where: str, line: int, path: str
    ) -> dict[str, Any] | None:
        base = Path(path).parent
        try:
            converted: Converted = convert_assertion(
                data, lambda ref: read_value(base, ref), self.base
            )
        except Unconvertible as error:
            self.omit(line, where, assertion_type(data), str(error), path=path)
            return None
        for note in converted.notes:
            self.note(line, where, assertion_type(data), note, path=path)
        if converted.grader is not None:
            self.graders.append((converted.grader, where, line))
        self.converted.append(
            ConvertedAssertion(
                path, line, where, assertion_type(data), str(converted.check["type"])
            )
        )
        return converted.check


def _weight(data: Any) -> float:
    weight = data.get("weight", 1) if isinstance(data, dict) else 1
    return (
        float(weight) if isinstance(weight, int | float) and not isinstance(weight, bool) else 1.0
    )
