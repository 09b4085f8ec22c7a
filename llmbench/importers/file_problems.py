"""Problems in an imported file, each reported as `path:line: what is wrong`, and the few
checks every file reader shares: reading a file as UTF-8 text, a CSV row's width."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileProblem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class PromptFileError(ValueError):
    """One or more files cannot be imported; each problem names its file and line."""

    def __init__(self, problems: Sequence[FileProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def read_text(path: Path, shown: str, error_type: type[PromptFileError] = PromptFileError) -> str:
    """The file's text (UTF-8, a byte-order mark dropped); error_type when it cannot be read
    or is not UTF-8, with the line where it stops being UTF-8."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise error_type([FileProblem(shown, line, "not UTF-8 text")]) from None
    except OSError as error:
        raise error_type([FileProblem(shown, 1, f"cannot read: {error.strerror}")]) from None


def field_count_problem(
    shown: str, line: int, row: Sequence[str], header: Sequence[str]
) -> FileProblem | None:
    """The problem of a CSV row with more or fewer fields than its header, if it has one."""
    if len(row) == len(header):
        return None
    return FileProblem(shown, line, f"{len(row)} fields where the header has {len(header)}")
