"""Every grade, history included, written to a CSV or JSON-lines file (0600, put in place
whole: services/export_files.py)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from llmbench.services.export_files import open_export
from llmbench.store.db import Store
from llmbench.store.grading import grades as grades_repo

EXPORT_FORMATS = ("csv", "jsonl")


def export_grades(store: Store, out: Path, *, fmt: str = "csv", rubric: str | None = None) -> int:
    """Write every grade (history included) to `out`; returns how many. CSV has one column per
    rubric dimension seen; JSONL keeps the scores as an object."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"export format is csv or jsonl, not {fmt!r}")
    db = store.read()
    rubric_id = None
    if rubric is not None:
        found = next((r for r in grades_repo.grading_rubrics(db) if r.name == rubric), None)
        if found is None:
            raise LookupError(f"no rubric named {rubric!r}")
        rubric_id = found.id
    rows = grades_repo.export_grades(db, rubric_id)
    with open_export(out) as handle:
        if fmt == "jsonl":
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            return len(rows)
        dimensions = sorted({name for row in rows for name in row["scores"]})
        columns = [k for k in grades_repo.EXPORT_COLUMNS if k != "scores"]
        writer = csv.writer(handle)
        writer.writerow(columns + [f"score_{name}" for name in dimensions])
        for row in rows:
            writer.writerow(
                [row[c] for c in columns] + [row["scores"].get(name, "") for name in dimensions]
            )
    return len(rows)
