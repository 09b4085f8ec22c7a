"""Walking the audit chain: the first call that does not fit, named with what was done to it.

Each way of tampering leaves its own trace, so each gets its own message: a body that no longer
matches its sealed content hash (edited text); a call marked purged that still holds text or
that no purge record covers (a forged purge); a call whose seal holds but whose predecessor is
not the one before it (calls deleted or reordered); calls whose seals do not verify (edited
metadata, calls appended without the key, a log resealed without it, or a second key); and,
after the walk, a log that ends before the head recorded beside the key or a checkpoint (a cut
tail, or every call deleted).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from llmbench.core.audit.chain import (
    CURRENT_FORM,
    GENESIS,
    LEGACY_FORM,
    Anchor,
    ChainHead,
    ChainProblem,
    ChainReport,
    FormRecord,
    HeadCheck,
    PurgeRecord,
    TamperKind,
    content_hash,
    key_id,
    row_seal_matches,
    same_digest,
)

Row = Mapping[str, Any]


@dataclass(frozen=True)
class ChainEvidence:
    """What the database holds besides the calls, and what was kept outside it."""

    db_id: str
    anchors: Mapping[int, tuple[Anchor, str]] = field(default_factory=dict)
    """first_kept_call_id → (anchor, stored HMAC)."""
    forms: tuple[tuple[FormRecord, str], ...] = ()
    """In id order, with their stored HMACs."""
    purges: tuple[tuple[int, PurgeRecord, str], ...] = ()
    """(record id, record, stored HMAC)."""
    head: tuple[ChainHead, str] | None = None
    """The head recorded beside the key, with its stored HMAC."""
    checkpoint: tuple[int, str] | None = None
    """A head (id, hash) printed earlier and kept elsewhere."""


class _Purges:
    """Which purge record covers a purged call: by purged_at, then by id run."""

    def __init__(self, key: bytes, records: Iterable[tuple[int, PurgeRecord, str]]) -> None:
        self._runs: dict[str, list[tuple[int, int, int, bool]]] = {}
        for record_id, record, stored in records:
            genuine = same_digest(record.digest(key), stored)
            for first, last in record.calls:
                self._runs.setdefault(record.purged_at, []).append(
                    (first, last, record_id, genuine)
                )
        for runs in self._runs.values():
            runs.sort()
        self._starts = {at: [run[0] for run in runs] for at, runs in self._runs.items()}

    def covering(self, call_id: int, purged_at: str) -> tuple[int, bool] | None:
        """(record id, genuine) of the record that purged this call at this time, if any."""
        runs = self._runs.get(purged_at)
        if not runs:
            return None
        index = bisect.bisect_right(self._starts[purged_at], call_id) - 1
        if index >= 0 and runs[index][0] <= call_id <= runs[index][1]:
            return runs[index][2], runs[index][3]
        return None


class _Walk:
    def __init__(self, key: bytes, evidence: ChainEvidence) -> None:
        self.key = key
        self.key_id = key_id(key)
        self.evidence = evidence
        self.forms = [record for record, _stored in evidence.forms]
        self._form_starts = [record.first_call_id for record in self.forms]
        self.foreign = [
            record
            for record, stored in evidence.forms
            if record.key_id != self.key_id and not same_digest(record.digest(key), stored)
        ]
        self.purges = _Purges(key, evidence.purges)
        head = evidence.head
        self.head = head[0] if head and same_digest(head[0].digest(key), head[1]) else None
        self.checked = self.purged = self.unrecorded = 0
        self.last_id: int | None = None
        self.last_hash: str | None = None
        self.seen: dict[int, str] = {}
        self._watch = {
            call_id
            for call_id in (
                self.head.call_id if self.head else None,
                evidence.checkpoint[0] if evidence.checkpoint else None,
            )
            if call_id is not None
        }

    # -- helpers ------------------------------------------------------------------------------
    def form_of(self, call_id: int) -> tuple[int, str]:
        index = bisect.bisect_right(self._form_starts, call_id) - 1
        if index < 0:
            return LEGACY_FORM, ""
        record = self.forms[index]
        return record.form, record.db_id

    def sealed(self, row: Row) -> bool:
        form, db_id = self.form_of(int(row["id"]))
        return row_seal_matches(self.key, form, db_id, row)

    def first_kept(self, call_id: int) -> int:
        """The first call retention kept at or before `call_id` (1 when it deleted none)."""
        kept = [first for first in self.evidence.anchors if first <= call_id]
        return max(kept) if kept else 1

    def retention_floor(self) -> int:
        """The last call id retention deleted (0 when none)."""
        return max(self.evidence.anchors, default=1) - 1

    def report(self, problem: ChainProblem | None, head_check: HeadCheck) -> ChainReport:
        return ChainReport(
            self.checked,
            self.purged,
            self.last_id,
            self.last_hash,
            problem,
            head_check,
            self.unrecorded,
            self.retention_floor(),
        )

    def fail(self, call_id: int, kind: TamperKind, reason: str, where: str = "") -> ChainReport:
        return self.report(ChainProblem(call_id, reason, kind, where), "not-checked")

    # -- the walk -----------------------------------------------------------------------------
    def run(self, rows: Iterator[Row]) -> ChainReport:
        problem = self._records()
        if problem is not None:
            return problem
        expected_prev = GENESIS
        for row in rows:
            call_id = int(row["id"])
            if call_id in self.evidence.anchors:
                anchor, stored = self.evidence.anchors[call_id]
                if not same_digest(anchor.digest(self.key), stored):
                    return self.fail(
                        call_id,
                        "anchor-altered",
                        "the retention anchor before this call was altered (its seal does not "
                        "verify)",
                    )
                if self.last_id is None:
                    expected_prev = anchor.prev_hash
            if row.get("hash") is None:
                return self.fail(
                    call_id,
                    "no-seal",
                    f"call {call_id} carries no seal: it was inserted outside llmbench",
                )
            if not self.sealed(row):
                return self._unsealed(row, rows)
            if row.get("prev_hash") != expected_prev:
                return self._misplaced(call_id)
            bad = self._body(row)
            if bad is not None:
                return bad
            self.checked += 1
            self.last_id, self.last_hash = call_id, str(row["hash"])
            if call_id in self._watch:
                self.seen[call_id] = self.last_hash
            expected_prev = self.last_hash
        return self._ends()

    def _records(self) -> ChainReport | None:
        db_id = self.evidence.db_id
        for record, stored in self.evidence.forms:
            if record.db_id != db_id:
                return self.fail(
                    record.first_call_id,
                    "db-id-edited",
                    f"meta.db_id was changed to {db_id}: this log was sealed for database "
                    f"{record.db_id} (its form record from call {record.first_call_id} says so); "
                    f"set meta.db_id back to {record.db_id}",
                    where="meta.db_id",
                )
            if record.key_id == self.key_id and not same_digest(record.digest(self.key), stored):
                return self.fail(
                    record.first_call_id,
                    "form-altered",
                    f"the form record from call {record.first_call_id} was altered (its seal "
                    "does not verify)",
                )
        named = self.head.form_first_call_id if self.head else None
        if named is not None and named not in self._form_starts:
            return self.fail(
                named,
                "form-altered",
                f"the form record from call {named} was deleted (the head recorded beside the "
                "key names it)",
            )
        return None

    def _misplaced(self, call_id: int) -> ChainReport:
        if self.last_id is None:
            start = self.first_kept(call_id)
            if start < call_id:
                return self.fail(
                    start,
                    "deleted-start",
                    f"calls {start}–{call_id - 1} were deleted from the start of the log with "
                    f"no retention record: the log now starts at call {call_id}",
                )
            return self.fail(
                call_id,
                "reordered",
                f"call {call_id} does not follow the start of the chain: a call was inserted, "
                "replaced or reordered",
            )
        if call_id > self.last_id + 1:
            return self.fail(
                call_id,
                "deleted",
                f"{_were(self.last_id + 1, call_id - 1)} deleted: call {call_id} no longer "
                f"follows call {self.last_id}",
            )
        return self.fail(
            call_id,
            "reordered",
            f"call {call_id} does not follow call {self.last_id}: a call was inserted, replaced "
            "or reordered",
        )

    def _body(self, row: Row) -> ChainReport | None:
        call_id = int(row["id"])
        purged_at = row.get("purged_at")
        if purged_at is None:
            if content_hash(row) != row.get("content_hash"):
                return self.fail(
                    call_id,
                    "body-edited",
                    f"the messages, response or error of call {call_id} were edited: they no "
                    "longer match the content hash sealed with it",
                )
            return None
        if any(row.get(name) is not None for name in ("messages", "response", "error")):
            return self.fail(
                call_id,
                "forged-purge",
                f"call {call_id} is marked purged but still holds text: a forged purge (its "
                "messages, response or error were replaced under purged_at)",
            )
        covering = self.purges.covering(call_id, str(purged_at))
        if covering is not None and covering[1]:
            self.purged += 1
            return None
        if covering is not None:
            return self.fail(
                call_id,
                "forged-purge",
                f"call {call_id} was purged under purge record #{covering[0]}, which llmbench "
                "did not write (its seal does not verify): a forged purge",
            )
        if not self.forms:  # a log from before purges were recorded
            self.purged += 1
            self.unrecorded += 1
            return None
        return self.fail(
            call_id,
            "forged-purge",
            f"call {call_id} is marked purged (at {purged_at}) but no purge recorded by llmbench "
            "covers it: a forged purge",
        )

    def _unsealed(self, row: Row, rows: Iterator[Row]) -> ChainReport:
        """The first call whose seal fails: what happened depends on which calls around it
        still verify."""
        first = last = int(row["id"])
        if self.form_of(first)[0] == LEGACY_FORM and row_seal_matches(
            self.key, CURRENT_FORM, self.evidence.db_id, row
        ):
            return self.fail(
                first,
                "form-altered",
                f"call {first} is sealed in form {CURRENT_FORM}, but the form record that says "
                "so was deleted",
            )
        recovered: int | None = None
        for later in rows:
            if self.sealed(later):
                recovered = int(later["id"])
                break
            last = int(later["id"])
        span = _span(first, last)
        fork = self._fork_reason(first, recovered)
        if fork is not None:
            return self.fail(first, "key-fork", fork)
        if self.last_id is None and recovered is None:
            told = (
                ", though the head recorded beside the key was sealed with it" if self.head else ""
            )
            sure = "" if self.head or self.forms else " (or this is not its key)"
            return self.fail(
                first,
                "resealed",
                f"no call verifies under this database's key: the whole log ({span}) was "
                f"resealed without it{sure}{told}",
            )
        if recovered is None:
            if self.head and self.head.call_id >= first and first != last:
                return self.fail(
                    first,
                    "resealed",
                    f"{span} no longer verify under the key, though the head recorded beside "
                    f"it (call {self.head.call_id}) was sealed with it: they were resealed "
                    "without the key",
                )
            if not (self.head and self.head.call_id >= first):
                after = f" after call {self.last_id}" if self.last_id is not None else ""
                return self.fail(
                    first,
                    "forged-append",
                    f"{_were(first, last)} appended without this key{after} (not sealed "
                    "with it): forged, or written under a second key on a copy of this database",
                )
        if first == last:
            return self.fail(
                first,
                "metadata-edited",
                f"call {first} was edited after it was sealed: its metadata (or seal) no longer "
                "matches",
            )
        return self.fail(
            first,
            "metadata-edited",
            f"{_were(first, last)} edited after they were sealed: their metadata (or seals) no "
            "longer match",
        )

    def _fork_reason(self, first: int, recovered: int | None) -> str | None:
        """Calls sealed under a form record of another key, before or after ours: a second key
        was made for a copy of this database."""
        if not self.foreign or self.last_id is not None or self.head is not None:
            return None  # a head recorded with this key makes it this database's own key
        theirs = ", ".join(sorted({record.key_id for record in self.foreign}))
        import_hint = (
            "bring the original key here with `llmbench audit key export` on the machine that "
            "wrote the log and `llmbench audit key import`"
        )
        if recovered is not None:
            return (
                f"calls {first}–{recovered - 1} were sealed with another key (id {theirs}) and "
                f"later calls with this one (id {self.key_id}): this key is a second key made "
                f"for a copy of this database (a key fork); {import_hint}"
            )
        return (
            f"no call verifies under this key (id {self.key_id}): the log was sealed with key "
            f"id {theirs}, so this is a second key made for a copy of this database (a key "
            f"fork) or another database's key; {import_hint}"
        )

    def _ends(self) -> ChainReport:
        """After a clean walk: the log must still reach the checkpoint and the recorded
        head, and an empty log must have been emptied by retention."""
        for first, (anchor, stored) in sorted(self.evidence.anchors.items()):
            # Anchors past the last call (retention deleted them all) were not walked; a
            # forged one would pass a deleted tail off as retention.
            if not same_digest(anchor.digest(self.key), stored):
                return self.fail(
                    first,
                    "anchor-altered",
                    f"the retention anchor at call {first} was altered or forged (its seal does "
                    "not verify)",
                )
        checkpoint = self.evidence.checkpoint
        if checkpoint is not None:
            problem = self._reaches(checkpoint[0], checkpoint[1], "the checkpoint", None)
            if problem is not None:
                return self.report(problem, "not-checked")
        recorded = self.evidence.head
        if recorded is not None and self.head is None:
            head = recorded[0]
            return self.fail(
                head.call_id,
                "head-altered",
                "the head recorded beside the key does not verify under the key: it was "
                "altered, or written with another key",
                where="the recorded head",
            )
        if self.head is not None:
            problem = self._reaches(
                self.head.call_id, self.head.hash, "the head recorded beside the key", self.head
            )
            if problem is not None:
                return self.report(problem, "not-checked")
            return self.report(None, "matched")
        if self.last_id is None and self.forms:
            sealed_from = max(record.first_call_id for record in self.forms)
            if self.retention_floor() < sealed_from:
                return self.fail(
                    sealed_from,
                    "deleted-all",
                    f"every call was deleted: the log is empty, yet llmbench sealed calls "
                    f"from call {sealed_from} on (its form record says so) and no retention "
                    "purge deleted them",
                )
        return self.report(None, "none")

    def _reaches(
        self, target: int, digest: str, named: str, head: ChainHead | None
    ) -> ChainProblem | None:
        if target <= self.retention_floor():
            return None  # deleted since by a retention purge, which anchored the chain
        held = f" ({head.count:,} calls)" if head is not None else ""
        if self.last_id is None:
            first = self.retention_floor() + 1
            return ChainProblem(
                first,
                f"every call was deleted: the log is empty, but {named} is call {target}{held}",
                "deleted-all",
            )
        if target > self.last_id:
            return ChainProblem(
                self.last_id + 1,
                f"{_were(self.last_id + 1, target)} cut from the end: {named} is call "
                f"{target}{held}, the log now ends at call {self.last_id}"
                + (" (for an older copy, such as a backup: --no-head)" if head else ""),
                "cut-tail",
            )
        if self.seen.get(target) != digest:
            return ChainProblem(
                target,
                f"call {target} is not the call of {named}: the log up to it was replaced "
                "(cut back and continued, or resealed with the key)",
                "head-replaced",
            )
        return None


def _span(first: int, last: int) -> str:
    return f"call {first}" if first == last else f"calls {first}–{last}"


def _were(first: int, last: int) -> str:
    return f"{_span(first, last)} {'was' if first == last else 'were'}"


def verify_log(key: bytes, rows: Iterable[Row], evidence: ChainEvidence) -> ChainReport:
    """Walk rows in id order; report the first thing that does not fit the chain."""
    return _Walk(key, evidence).run(iter(rows))
