"""What can be imported, as the TUI's import dialog offers it, and whether a path can be read as
that kind before any reading starts (the same refusals `llmbench import` gives)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# The first bytes of every SQLite database file (https://sqlite.org/fileformat.html).
SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class ImportKind:
    key: str
    """`llmbench import <key>`."""
    label: str
    calls: bool
    """Calls into the audit log (else a promptfoo config converted into a suite file)."""


IMPORT_KINDS: tuple[ImportKind, ...] = (
    ImportKind("jsonl", "Calls: JSON lines (OpenAI pairs, batch output, litellm logs)", True),
    ImportKind("usage-csv", "Calls: OpenAI usage export (CSV)", True),
    ImportKind("llm-logs", "Calls: simonw/llm's logs.db (`llm logs path`)", True),
    ImportKind("otlp", "Calls: OpenTelemetry Collector file exporter (OTLP JSON lines)", True),
    ImportKind("promptfoo", "promptfoo config → eval suite file beside it", False),
)
KINDS_BY_KEY = {kind.key: kind for kind in IMPORT_KINDS}


def source_problem(kind: str, path: Path) -> str | None:
    """Why `path` cannot be imported as `kind`, or None. Reads at most the SQLite header."""
    if not path.exists():
        return f"{path} does not exist."
    if not path.is_file():
        return f"{path} is not a file."
    if kind != "llm-logs":
        return None
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_MAGIC))
    except OSError as error:
        return f"cannot read {path}: {error.strerror or error}"
    if header != SQLITE_MAGIC:
        shown = "an empty file" if not header else "not a SQLite database"
        return (
            f"{path} is {shown}, so not simonw/llm's logs.db (`llm logs path` prints where "
            "that is); nothing was written"
        )
    return None


def field_map(text: str) -> dict[str, str] | None:
    """'ts=startTime, cost=spend' (as `--map` takes them, comma- or space-separated) → a JSON
    lines field map, or None when empty. Raises ValueError naming a bad entry."""
    from llmbench.importers.calls.jsonl import parse_map

    items = [item for item in text.replace(",", " ").split() if item]
    return parse_map(items) if items else None
