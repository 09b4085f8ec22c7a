"""The chain walk names each kind of tampering by what it leaves: pure rows and records, no
database."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from llmbench.core.audit.chain import (
    GENESIS,
    Anchor,
    ChainHead,
    FormRecord,
    PurgeRecord,
    TamperKind,
    key_id,
    seal,
)
from llmbench.core.audit.chain_verify import ChainEvidence, verify_log

KEY = b"k" * 32
OTHER = b"o" * 32
DB = "db-1"
N = 8


def _row(n: int) -> dict[str, Any]:
    return {
        "id": n,
        "ts": f"2026-01-01T00:00:{n:02d}.000Z",
        "request_id": f"r{n}",
        "model_requested": "m",
        "model": "m",
        "status": "ok",
        "messages": f'[{{"role":"user","content":"q{n}"}}]',
        "response": f"a{n}",
        "error": None,
        "purged_at": None,
    }


def _chain(key: bytes = KEY, first: int = 1, prev: str = GENESIS, count: int = N) -> list[dict]:
    rows = []
    for n in range(first, first + count):
        rows.append(seal(key, prev, _row(n), form=2, db_id=DB))
        prev = rows[-1]["hash"]
    return rows


def _form(key: bytes = KEY) -> tuple[FormRecord, str]:
    record = FormRecord(2, 1, DB, key_id(key), "2026-01-01T00:00:00Z")
    return record, record.digest(key)


def _head(rows: list[dict], key: bytes = KEY) -> tuple[ChainHead, str]:
    last = rows[-1]
    head = ChainHead(DB, last["id"], len(rows), last["hash"], 1)
    return head, head.digest(key)


def _evidence(rows: list[dict], **changes: Any) -> ChainEvidence:
    base = ChainEvidence(db_id=DB, forms=(_form(),), head=_head(rows))
    return replace(base, **changes)


def test_an_untouched_chain_verifies_and_reaches_its_head() -> None:
    rows = _chain()
    report = verify_log(KEY, rows, _evidence(rows))
    assert report.ok and report.checked == N and report.head_check == "matched"


def _purged(rows: list[dict], n: int, text: str | None = None) -> None:
    rows[n - 1].update(
        messages=text, response=None, error=None, purged_at="2026-02-01T00:00:00.000Z"
    )


def _purge_record(n: int, key: bytes = KEY) -> tuple[int, PurgeRecord, str]:
    record = PurgeRecord("t", "2026-02-01T00:00:00.000Z", ((n, n),), 1, None, "retention", DB)
    return 1, record, record.digest(key)


Tamper = Callable[[list[dict]], tuple[list[dict], dict[str, Any]]]


def _edit(n: int, **fields: Any) -> Tamper:
    def tamper(rows: list[dict]) -> tuple[list[dict], dict[str, Any]]:
        rows[n - 1].update(fields)
        return rows, {}

    return tamper


CASES: list[tuple[str, Tamper, TamperKind, int, str]] = [
    ("body", _edit(3, response="changed"), "body-edited", 3, "call 3 were edited"),
    ("metadata", _edit(4, model="other"), "metadata-edited", 4, "call 4 was edited after"),
    (
        "purge with text",
        lambda rows: (_purged(rows, 5, "[]") or rows, {}),
        "forged-purge",
        5,
        "still holds text",
    ),
    (
        "purge unrecorded",
        lambda rows: (_purged(rows, 5) or rows, {}),
        "forged-purge",
        5,
        "no purge recorded by llmbench covers it",
    ),
    (
        "purge record forged",
        lambda rows: (_purged(rows, 5) or rows, {"purges": (_purge_record(5, OTHER),)}),
        "forged-purge",
        5,
        "purge record #1, which llmbench did not write",
    ),
    (
        "middle deleted",
        lambda rows: (rows[:3] + rows[6:], {}),
        "deleted",
        7,
        "calls 4–6 were deleted: call 7 no longer follows call 3",
    ),
    (
        "start deleted",
        lambda rows: (rows[2:], {}),
        "deleted-start",
        1,
        "calls 1–2 were deleted from the start",
    ),
    (
        "replaced",
        lambda rows: ([*rows[:3], seal(KEY, "x" * 64, _row(4), form=2, db_id=DB), *rows[4:]], {}),
        "reordered",
        4,
        "call 4 does not follow call 3",
    ),
    (
        "tail cut",
        lambda rows: (rows[:5], {}),
        "cut-tail",
        6,
        "calls 6–8 were cut from the end: the head recorded beside the key is call 8",
    ),
    (
        "all deleted",
        lambda rows: ([], {}),
        "deleted-all",
        1,
        "every call was deleted",
    ),
    (
        "all deleted, head gone",
        lambda rows: ([], {"head": None}),
        "deleted-all",
        1,
        "yet llmbench sealed calls from call 1",
    ),
    (
        "all deleted, passed off as retention",
        lambda rows: ([], {"anchors": {N + 1: (_anchor(rows), "forged")}}),
        "anchor-altered",
        N + 1,
        f"the retention anchor at call {N + 1} was altered or forged",
    ),
    (
        "resealed",
        lambda rows: (_chain(OTHER), {}),
        "resealed",
        1,
        "the whole log (calls 1–8) was resealed without it",
    ),
    (
        "appended",
        lambda rows: (rows + _chain(OTHER, N + 1, rows[-1]["hash"], 2), {}),
        "forged-append",
        N + 1,
        f"calls 9–10 were appended without this key after call {N}",
    ),
    (
        "head altered",
        lambda rows: (rows, {"head": (replace(_head(rows)[0], call_id=5), _head(rows)[1])}),
        "head-altered",
        5,
        "does not verify under the key",
    ),
    (
        "head replaced",
        lambda rows: (rows[:5] + _continued(rows), {}),
        "head-replaced",
        N,
        f"call {N} is not the call of the head recorded beside the key",
    ),
    (
        "form altered",
        lambda rows: (rows, {"forms": ((replace(_form()[0], first_call_id=3), _form()[1]),)}),
        "form-altered",
        3,
        "the form record from call 3 was altered",
    ),
    (
        "form record deleted",
        lambda rows: (rows, {"forms": (), "head": None}),
        "form-altered",
        1,
        "call 1 is sealed in form 2, but the form record that says so was deleted",
    ),
    (
        "db id",
        lambda rows: (rows, {"db_id": "db-2"}),
        "db-id-edited",
        1,
        "meta.db_id was changed to db-2: this log was sealed for database db-1",
    ),
]


def _anchor(rows: list[dict]) -> Anchor:
    return Anchor(N + 1, rows[-1]["hash"], N, "retention", "2026-03-01T00:00:00Z")


def _continued(rows: list[dict]) -> list[dict]:
    """The log cut after call 5 and continued by llmbench with new calls 6–9."""
    fresh = []
    prev = rows[4]["hash"]
    for n in range(6, 10):
        row = seal(KEY, prev, {**_row(n), "response": f"new {n}"}, form=2, db_id=DB)
        fresh.append(row)
        prev = row["hash"]
    return fresh


@pytest.mark.parametrize(
    ("tamper", "kind", "call_id", "says"), [case[1:] for case in CASES], ids=[c[0] for c in CASES]
)
def test_each_tamper_is_named(tamper: Tamper, kind: TamperKind, call_id: int, says: str) -> None:
    rows, changes = tamper(_chain())
    evidence = _evidence(_chain(), **changes)
    report = verify_log(KEY, rows, evidence)
    assert report.problem is not None
    assert (report.problem.kind, report.problem.call_id) == (kind, call_id), report.problem
    assert says in report.problem.reason


def test_a_second_key_names_the_fork() -> None:
    """The copy's own key verifies the calls sealed after the copy, not those before."""
    original = _chain()
    forked = original + _chain(OTHER, N + 1, original[-1]["hash"], 3)
    report = verify_log(OTHER, forked, ChainEvidence(db_id=DB, forms=(_form(),)))
    assert report.problem is not None and report.problem.kind == "key-fork"
    assert f"calls 1–{N} were sealed with another key (id {key_id(KEY)})" in report.problem.reason
    wrong = verify_log(OTHER, original, ChainEvidence(db_id=DB, forms=(_form(),)))
    assert wrong.problem is not None and wrong.problem.kind == "key-fork"


def test_a_log_emptied_by_retention_verifies_empty() -> None:
    rows = _chain()
    anchor = _anchor(rows)
    report = verify_log(KEY, [], _evidence(rows, anchors={N + 1: (anchor, anchor.digest(KEY))}))
    assert report.ok and report.empty and report.deleted_by_retention == N


def test_a_recorded_purge_and_a_head_left_behind_verify() -> None:
    rows = _chain()
    head = _head(rows[:5])
    _purged(rows, 2)
    report = verify_log(KEY, rows, _evidence(rows, head=head, purges=(_purge_record(2),)))
    assert report.ok, report.problem
    assert (report.purged_bodies, report.head_check) == (1, "matched")


def test_the_content_hash_is_not_what_is_checked_first() -> None:
    """A forged last call with a made-up content hash is named as not sealed, not as edited
    text (what verification used to say)."""
    rows = _chain()
    forged = {**_row(N + 1), "prev_hash": rows[-1]["hash"], "content_hash": "0" * 64}
    forged["hash"] = hashlib.sha256(b"no key").hexdigest()
    report = verify_log(KEY, [*rows, forged], _evidence(rows))
    assert report.problem is not None and report.problem.kind == "forged-append"
