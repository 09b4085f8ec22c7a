"""The chain's hashed text must never change: databases written by earlier versions verify
only if a row seals to the same hash it did when it was written."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmbench.core.audit.chain import METADATA_FIELDS, canonical_metadata, content_hash, seal

KEY = b"k" * 32
ROW: dict[str, Any] = {
    "id": 7,
    "ts": "2025-06-01T12:00:00.000Z",
    "request_id": "req-é",
    "attempt": 1,
    "model_requested": "gpt-4o",
    "model": "gpt-4o-2024",
    "provider": "openai",
    "params": "{}",
    "prompt_tokens": 12,
    "completion_tokens": 3.0,
    "cost": 1,
    "latency_ms": 812,
    "status": "ok",
    "tags": '{"a": "ü"}',
    "guard_flags": "[]",
    "flagged": True,
    "messages": '[{"role":"user","content":"hi \\u2603"}]',
    "response": "snow ☃",
    "error": None,
}


def test_a_row_seals_to_the_hash_it_had_when_the_chain_was_designed() -> None:
    sealed = seal(KEY, "genesis", dict(ROW))
    assert sealed["hash"] == "d9941dabe16927416287618db4e2f8003af1167d85db93c653b466e50d247437"


def _reference(row: dict[str, Any]) -> str:
    coerce = {"int": int, "real": float, "text": str}
    values = {
        name: None if row.get(name) is None else coerce[kind](row[name])
        for name, kind in METADATA_FIELDS.items()
    }
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_VALUES = st.one_of(
    st.none(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)


# Generation time is not what these test; a loaded CI box must not fail them for it.
QUICK = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])


@QUICK
@given(
    numbers=st.dictionaries(
        st.sampled_from([n for n, kind in METADATA_FIELDS.items() if kind != "text"]), _VALUES
    ),
    texts=st.dictionaries(
        st.sampled_from([n for n, kind in METADATA_FIELDS.items() if kind == "text"]),
        st.one_of(st.none(), st.text(max_size=40)),
    ),
)
def test_the_metadata_text_is_sorted_compact_json_of_the_coerced_fields(
    numbers: dict[str, Any], texts: dict[str, Any]
) -> None:
    row = {**numbers, **texts}
    assert canonical_metadata(row) == _reference(row)


@QUICK
@given(st.lists(st.one_of(st.none(), st.text(max_size=40)), min_size=3, max_size=3))
def test_the_content_hash_covers_messages_response_and_error(body: list[str | None]) -> None:
    import hashlib

    row = dict(zip(("messages", "response", "error"), body, strict=True))
    expected = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert content_hash(row) == hashlib.sha256(expected.encode()).hexdigest()
