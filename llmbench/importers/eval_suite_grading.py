"""A suite's grading rules (core.evaluation.transform_spec): `transform` and `threshold` at the
top of the suite (every case's) and on a test (that case's), and a check's own `transform`.

    transform: output.trim()           # every case's checks see the output through this
    threshold: 0.5                     # a case passes when its weighted score reaches it
    tests:
      - vars: {topic: bananas}
        transform: file://shout.py     # this case's own (replaces the suite's): get_transform
        threshold: 0.75
        checks:
          - {type: contains, value: BANANA, transform: "output.split(' ')[0]"}  # after the case's

A transform's file is read relative to the suite file, as a code check's is; it is made
absolute here, so the run finds it wherever it starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from yaml.nodes import Node

from llmbench.core.evaluation.check_spec import CheckError
from llmbench.core.evaluation.script_spec import FILE_PREFIX
from llmbench.core.evaluation.transform_spec import (
    TRANSFORM_KEY,
    case_grading_data,
    parse_case_grading,
    transform_source,
)
from llmbench.importers.yaml_nodes import InvalidValue, NodeReader

GRADING_KEYS = (TRANSFORM_KEY, "threshold")


def read_grading(reader: NodeReader, fields: dict[str, Node], what: str) -> dict[str, Any]:
    """The `transform` and `threshold` among a mapping's fields, in their saved form, the
    transform's file made absolute; InvalidValue names the bad one."""
    data: dict[str, Any] = {}
    for key in GRADING_KEYS:
        if key in fields:
            data[key] = reader.json_value(fields[key], f"{what}: {key}")
    try:
        grading = parse_case_grading(data)
    except CheckError as error:
        bad = (
            TRANSFORM_KEY if TRANSFORM_KEY in fields and "transform" in str(error) else "threshold"
        )
        node = fields.get(bad) or next(iter(fields.values()))
        raise InvalidValue(node, f"{what}: {error}") from None
    saved = case_grading_data(grading)
    if TRANSFORM_KEY in saved:
        try:
            saved[TRANSFORM_KEY] = transform_file(reader.path, str(saved[TRANSFORM_KEY]))
        except ValueError as error:
            raise InvalidValue(fields[TRANSFORM_KEY], f"{what}: {error}") from None
    return saved


def transform_file(suite_path: str, value: str) -> str:
    """A transform's file:// value made absolute against the suite's folder, the file required
    to exist; inline code as it is."""
    source = transform_source(value)
    if not source.is_file:
        return value
    path = Path(source.path).expanduser()
    if not path.is_absolute():
        path = (Path(suite_path).resolve().parent / path).resolve()
    if not path.is_file():
        raise ValueError(f"transform: no such file {str(path)!r}")
    named = value[len(FILE_PREFIX) :].strip()
    function = named[len(source.path) + 1 :] if named.startswith(source.path + ":") else ""
    return f"{FILE_PREFIX}{path}" + (f":{function}" if function else "")
