"""An evaluation run written out for CI: JSON (everything), CSV (one row per cell) or JUnit XML
(one testcase per cell, one testsuite per prompt version × model), chosen by file suffix.

Golden-answer similarity (ROUGE-L) and the pairwise judge's verdict go with each cell (JSON,
CSV) and their means with each group (JSON; JUnit testsuite properties)."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from llmbench.core.evaluation.scoreboard import CellRecord, GroupStats, MigrationReport
from llmbench.services.export_files import write_export_text

EXPORT_SUFFIXES = (".json", ".csv", ".xml")
CSV_COLUMNS = (
    "result_id",
    "prompt",
    "model",
    "case_id",
    "repeat",
    "status",
    "passed",
    "score",
    "judge_score",
    "similarity",
    "pairwise",
    "cost",
    "latency_ms",
    "failures",
    "output",
    "tool_calls",
)


def write_report(
    path: Path,
    *,
    run: dict[str, Any],
    cells: Sequence[CellRecord],
    board: Sequence[GroupStats],
    migration: MigrationReport | None,
) -> None:
    suffix = path.suffix.lower()
    if suffix == ".json":
        text = to_json(run, cells, board, migration)
    elif suffix == ".csv":
        text = to_csv(cells)
    elif suffix == ".xml":
        text = to_junit(str(run.get("name", "")), cells, board)
    else:
        raise ValueError(f"cannot write {path.name}: use .json, .csv or .xml (JUnit)")
    write_export_text(path, text)


def _group_json(group: GroupStats) -> dict[str, Any]:
    return {
        **asdict(group),
        "pass_rate": group.pass_rate,
        "cost_per_case": group.cost_per_case,
    }


def _migration_json(report: MigrationReport) -> dict[str, Any]:
    return {
        **asdict(report),
        "cost_change": report.cost_change,
        "latency_change": report.latency_change,
        "verdict": report.verdict(),
    }


def to_json(
    run: dict[str, Any],
    cells: Sequence[CellRecord],
    board: Sequence[GroupStats],
    migration: MigrationReport | None,
) -> str:
    data = {
        "run": run,
        "scoreboard": [_group_json(group) for group in board],
        "migration": _migration_json(migration) if migration else None,
        "cells": [{**asdict(cell), "succeeded": cell.succeeded} for cell in cells],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def to_csv(cells: Sequence[CellRecord]) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for cell in cells:
        writer.writerow(
            [
                cell.result_id,
                cell.version_label,
                cell.model,
                cell.case_id,
                cell.repeat,
                cell.status,
                "" if cell.passed is None else int(cell.succeeded),
                "" if cell.score is None else cell.score,
                "" if cell.judge_score is None else cell.judge_score,
                "" if cell.similarity is None else cell.similarity,
                "" if cell.pairwise is None else cell.pairwise,
                "" if cell.cost is None else cell.cost,
                "" if cell.latency_ms is None else round(cell.latency_ms, 1),
                " | ".join(cell.failures),
                cell.output,
                json.dumps(list(cell.tool_calls), ensure_ascii=False) if cell.tool_calls else "",
            ]
        )
    return buffer.getvalue()


def to_junit(name: str, cells: Sequence[CellRecord], board: Sequence[GroupStats] = ()) -> str:
    """JUnit XML as CI servers read it: a failed check is a <failure>, a cell the model did
    not answer an <error>; a group's mean similarity and pairwise win rate are properties of
    its testsuite."""
    figures = {(group.version_label or "draft", group.model): group for group in board}
    groups: dict[tuple[str, str], list[CellRecord]] = defaultdict(list)
    for cell in cells:
        groups[(cell.version_label or "draft", cell.model)].append(cell)
    root = ET.Element("testsuites", name=f"llmbench eval: {name}")
    totals = {"tests": 0, "failures": 0, "errors": 0, "time": 0.0}
    for (label, model), members in groups.items():
        suite = ET.SubElement(root, "testsuite", name=_xml_text(f"{label} × {model}"))
        _properties(suite, figures.get((label, model)))
        counts = {"tests": len(members), "failures": 0, "errors": 0, "time": 0.0}
        for cell in members:
            seconds = (cell.latency_ms or 0.0) / 1000
            counts["time"] += seconds
            case = ET.SubElement(
                suite,
                "testcase",
                name=f"case {cell.case_id} #{cell.repeat}",
                classname=f"{label}.{model}",
                time=f"{seconds:.3f}",
            )
            if not cell.ok:
                counts["errors"] += 1
                error = ET.SubElement(case, "error", message=_first_line(cell.output), type="error")
                error.text = _xml_text(cell.output)
            elif not cell.succeeded:
                counts["failures"] += 1
                failure = ET.SubElement(
                    case, "failure", message=_first_line("; ".join(cell.failures)), type="check"
                )
                failure.text = _xml_text("\n".join(cell.failures))
            out = ET.SubElement(case, "system-out")
            out.text = _xml_text(cell.output)
        for key in ("tests", "failures", "errors"):
            suite.set(key, str(counts[key]))
            totals[key] += counts[key]
        suite.set("skipped", "0")
        suite.set("time", f"{counts['time']:.3f}")
        totals["time"] += counts["time"]
    for key in ("tests", "failures", "errors"):
        root.set(key, str(totals[key]))
    root.set("time", f"{totals['time']:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _properties(suite: ET.Element, group: GroupStats | None) -> None:
    """<properties> first in the testsuite, as the JUnit schemas want; none when empty."""
    if group is None:
        return
    values = {
        "mean_similarity": group.mean_similarity,
        "pairwise_win_rate": group.pairwise_win_rate,
    }
    shown: dict[str, float] = {name: value for name, value in values.items() if value is not None}
    if group.pairwise_win_rate is not None:
        shown["pairwise_judged"] = group.pairwise_judged
    if not shown:
        return
    properties = ET.SubElement(suite, "properties")
    for name, value in shown.items():
        ET.SubElement(properties, "property", name=_xml_text(name), value=f"{value:.6g}")


def _first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return _xml_text(line[:limit])


# XML 1.0 cannot hold most control characters, even escaped: a model's output may.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)
