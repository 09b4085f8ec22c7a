"""One import as the TUI runs it: calls into the audit log (`import_file`) or a promptfoo config
into a suite file, ended in words a dialog shows: what was added, or each problem with its file
and line when the file was refused (nothing written), or that it was cancelled.

Cancelling is the caller's progress report raising ImportCancelled: it runs inside the write
transaction, so the writer rolls the whole import back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from llmbench.importers.calls.common import CallImportError
from llmbench.services.imports.sources import KINDS_BY_KEY

if TYPE_CHECKING:
    from llmbench.services.imports.preparation import ImportOutcome
    from llmbench.services.imports.promptfoo_suites import SuiteWritten
    from llmbench.store.db import Store


class ImportCancelled(Exception):
    """Raised from a progress report to stop an import: nothing of it is added."""


@dataclass(frozen=True)
class ImportEnded:
    headline: str
    details: tuple[str, ...] = ()
    """The refused file's problems ('calls.jsonl:3: …'), or what a conversion left out."""
    problem: bool = False
    added: bool = False
    """Calls were added to the log (a view of it should read it again)."""
    cancelled: bool = False


def run_import(
    store: Store,
    kind: str,
    path: Path,
    mapping: dict[str, str] | None,
    progress: Callable[[int, int], None],
) -> ImportEnded:
    """Import `path` as `kind` (`llmbench import <kind>`); how it ended, never raising."""
    from llmbench.services.imports import calls
    from llmbench.services.imports.promptfoo_suites import ConversionRefused, convert_promptfoo
    from llmbench.services.imports.reader_process import ImportProcessError

    try:
        if not KINDS_BY_KEY[kind].calls:
            return _converted(convert_promptfoo(path))
        if path.stat().st_size >= calls.PARALLEL_MIN_BYTES:
            _start_resource_tracker()
        return _imported(calls.import_file(store, kind, path, mapping, progress=progress))
    except ImportCancelled:
        return ImportEnded(f"Import cancelled: nothing of {path.name} was added.", cancelled=True)
    except CallImportError as refused:
        problems = refused.problems
        return ImportEnded(
            f"Import refused, nothing was written — {len(problems)} bad "
            f"row{'s' if len(problems) != 1 else ''} in {path.name}:",
            tuple(str(problem) for problem in problems),
            problem=True,
        )
    except ConversionRefused as refused:
        return ImportEnded(
            f"{path.name} was not converted; nothing was written:",
            tuple(refused.problems),
            problem=True,
        )
    except ImportProcessError as failed:
        return ImportEnded(str(failed), problem=True)
    except Exception as failed:  # told by the caller, never fatal
        return ImportEnded(
            f"Import failed, nothing was written: {failed or type(failed).__name__}",
            problem=True,
        )


def _start_resource_tracker() -> None:
    """A large import reads in a second process (spawn), which needs multiprocessing's resource
    tracker. Starting the tracker hands it sys.stderr's descriptor, and inside a Textual app
    sys.stderr is the app's capture, whose descriptor is -1: the start fails with "bad value(s)
    in fds_to_keep". Start it here with stderr on the null device, which also keeps its
    warnings from drawing over the screen."""
    import contextlib
    import os
    from multiprocessing import resource_tracker

    with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):
        resource_tracker.ensure_running()


def _imported(outcome: ImportOutcome) -> ImportEnded:
    name = Path(outcome.source).name
    headline = (
        f"{name}: {outcome.read:,} calls read, {outcome.added:,} added, "
        f"{outcome.skipped:,} already in the log"
    )
    if outcome.unpriced:
        headline += f", {outcome.unpriced:,} unpriced (llmbench prices set)"
    return ImportEnded(headline + ".", added=outcome.added > 0)


def _converted(written: SuiteWritten) -> ImportEnded:
    details = [f"not converted: {item}" for item in written.omitted]
    details += [f"approximated: {item}" for item in written.approximated]
    return ImportEnded(
        f"{written.config.name} → {written.suite}: {written.summary}. Run it with `llmbench eval`.",
        tuple(details),
    )
