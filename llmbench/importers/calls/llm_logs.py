"""simonw/llm's logs.db as calls for the audit log, in every layout llm has shipped.

- `responses` (llm 0.4 to 0.31): a row per call, conversations in `conversations`; read by
  `llm_logs_responses`.
- `turns` (llm 0.32 on): calls over a content-addressed message tree; read by
  `llm_logs_turns`.

A file a newer llm migrated holds both: its older calls stay in `responses` and new ones go to
`turns`, so both are read, older first. Each call's request id is `llm:<id>` (llm's own ULID),
so importing the same file again adds nothing and importing it after llm logged more adds
exactly the new calls. What a call becomes in the audit log is `llm_logs_rows`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from llmbench.importers.calls.common import CallOrProblem, ImportProblem
from llmbench.importers.calls.llm_logs_responses import is_responses_layout, iter_responses
from llmbench.importers.calls.llm_logs_rows import SOURCE_TAG
from llmbench.importers.calls.llm_logs_turns import is_turns_layout, iter_turns, missing_tables
from llmbench.store.foreign import ForeignDatabase, ForeignDatabaseError

__all__ = ["SOURCE_TAG", "iter_llm_logs"]

Progress = Callable[[int, int], None]


def iter_llm_logs(path: Path, progress: Progress | None = None) -> Iterator[CallOrProblem]:
    """Every logged call (not yet priced), or a problem per unreadable row, one at a time in
    the order llm logged them, so a large file is imported while it is read."""
    try:
        db = ForeignDatabase(path)
    except ForeignDatabaseError as error:
        yield ImportProblem(str(path), str(error))
        return
    with db:
        classic, turns = is_responses_layout(db), is_turns_layout(db)
        if not classic and not turns:
            yield ImportProblem(str(path), _not_llm_logs(db))
            return
        if turns and (missing := missing_tables(db)):
            yield ImportProblem(
                str(path), f"a `turns` table without llm's {', '.join(missing)}: damaged?"
            )
            return
        first = db.count("responses") if classic else 0
        total = first + (db.count("turns") if turns else 0)

        def read(done: int) -> None:
            if progress:
                progress(done, total)

        if classic:
            yield from iter_responses(db, path, read)
        if turns:
            yield from iter_turns(db, path, read, done=first)
        read(total)


def _not_llm_logs(db: ForeignDatabase) -> str:
    if db.columns("logs") or db.columns("log"):
        # llm before 0.4 logged to `log`/`logs`; later releases leave that table as it was.
        return (
            "only the `logs` table of llm before 0.4, which llmbench does not read:"
            " no `responses` or `turns` table"
        )
    return "no `responses` or `turns` table: not llm's logs.db"
