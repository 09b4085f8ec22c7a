"""The F6 query bar's language: what each term means, clear errors, and no other exception."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmbench.core.audit.query import (
    AuditQuery,
    Comparison,
    PromptRef,
    QueryError,
    TextTerm,
    TimeBound,
    highlight_spans,
    parse,
    parse_moment,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def test_every_kind_of_term() -> None:
    query = parse(
        "model:gpt-4o,gpt-4o-mini status:error status:429 feature:support since:2025-05-01 "
        "until:2025-05-03 cost>0.01 latency>=2s ttft<300 version:support-reply@3 "
        'prompt:classify run:12 user:u1 team:"data science" customer:acme guard:pii '
        'flagged "refund twice" invoice*'
    )
    assert query.models == ("gpt-4o", "gpt-4o-mini")
    assert query.statuses == ("error", "rate_limited")
    assert query.features == ("support",)
    assert query.teams == ("data science",)
    assert query.customers == ("acme",) and query.users == ("u1",)
    assert query.since == TimeBound(moment="2025-05-01T00:00:00.000Z")
    # until takes in the whole day it names
    assert query.until == TimeBound(moment="2025-05-04T00:00:00.000Z")
    assert query.comparisons == (
        Comparison("cost", ">", 0.01),
        Comparison("latency", ">=", 2000.0),
        Comparison("ttft", "<", 300.0),
    )
    assert query.prompts == (PromptRef("support-reply", 3), PromptRef("classify"))
    assert query.runs == (12,)
    assert query.guard_rules == ("pii",)
    assert query.flagged
    assert query.text == (TextTerm("refund twice"), TextTerm("invoice", prefix=True))


def test_an_empty_bar_is_an_empty_query() -> None:
    assert parse("   ").is_empty
    assert not parse("flagged").is_empty


def test_relative_times_resolve_against_now() -> None:
    query = parse("since:24h until:30m")
    assert query.since is not None and query.until is not None
    assert query.since.resolve(NOW) == "2025-05-31T12:00:00.000Z"
    assert query.until.resolve(NOW) == "2025-06-01T11:30:00.000Z"
    assert parse("since:2025-05-01T14:30").since == TimeBound(moment="2025-05-01T14:30:00.000Z")


def test_search_terms_are_quoted_for_fts5() -> None:
    # Quoted text is literal: FTS5 operators, column filters and stars inside it are words.
    query = parse('refund "say ""hi""" NEAR AND "col:x*"')
    assert query.fts_match() == '"refund" "say hi" "NEAR" "AND" "col:x*"'
    assert parse("invoice*").fts_match() == '"invoice" *'
    assert parse("model:x").fts_match() is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("modle:gpt-4o", "did you mean model:?"),
        ("status:weird", "unknown status 'weird'"),
        ("cost>abc", "cost needs a number"),
        ("latency>fast", "latency needs milliseconds"),
        ("since:yesterday", "is not a date"),
        ("since:2025-13-01", "is not a date"),
        ("run:twelve", "run needs a run number"),
        ("version:support@x", "a version is name@number"),
        ("model:", "model: needs a value"),
        ('"unclosed', "a quote is not closed"),
        ("http://example.com", "put text in quotes"),
    ],
)
def test_bad_terms_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(QueryError) as raised:
        parse(f"status:ok {text}")
    assert message in raised.value.message
    # The error points at the offending term, after the good one.
    assert raised.value.start >= len("status:ok ")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_any_text_parses_or_raises_query_error(text: str) -> None:
    try:
        query = parse(text)
    except QueryError:
        return
    assert isinstance(query, AuditQuery)
    match = query.fts_match()
    assert match is None or "\x00" not in match


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["model:", "status:", "cost>", "latency<", "since:", "until:", "run:", "version:",
             "flagged", '"', "@", ",", "*", "7d", "2025-05-01", "x", " ", ":", ">=", "ok"]
        ),
        max_size=12,
    )
)  # fmt: skip
def test_term_fragments_parse_or_raise_query_error(parts: list[str]) -> None:
    with contextlib.suppress(QueryError):
        parse("".join(parts))


def test_jump_moments() -> None:
    assert parse_moment("2025-05-10", NOW) == "2025-05-11T00:00:00.000Z"
    assert parse_moment("2025-05-10T08:15", NOW) == "2025-05-10T08:15:00.000Z"
    assert parse_moment("3d", NOW) == "2025-05-29T12:00:00.000Z"
    with pytest.raises(QueryError):
        parse_moment("soon", NOW)
    with pytest.raises(QueryError):
        parse_moment("", NOW)


def test_highlights_follow_word_boundaries_and_prefixes() -> None:
    text = "Refund the refunded order; REFUND now"
    assert highlight_spans(text, (TextTerm("refund"),)) == [(0, 6), (27, 33)]
    assert highlight_spans(text, (TextTerm("refund", prefix=True),)) == [
        (0, 6),
        (11, 19),
        (27, 33),
    ]
    assert highlight_spans("the order now", (TextTerm("order now"),)) == [(4, 13)]
    assert highlight_spans("abc", (TextTerm("..."),)) == []
