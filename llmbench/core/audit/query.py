"""The audit browser's query bar: a small filter language over the calls of the audit log.

    model:gpt-4o,gpt-4o-mini status:error feature:support since:2025-05-01 until:2025-05-03
    cost>0.01 latency>2s version:support-reply@3 run:12 user:u1 flagged "refund twice" invoice*
    conversation:support-42 trace:run-7

Filters of one kind are alternatives (OR), different kinds all apply (AND). Words and "quoted
phrases" that are not filters are full-text search terms, all of which must match. `parse`
raises QueryError (with where in the text it went wrong) and nothing else, whatever it is fed.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

# The statuses a call can have (the store's schema checks the same list).
CALL_STATUSES = ("ok", "error", "timeout", "rate_limited", "blocked", "cache_hit")
_STATUS_ALIASES = {
    "429": "rate_limited",
    "rate-limited": "rate_limited",
    "ratelimited": "rate_limited",
    "cached": "cache_hit",
    "cache": "cache_hit",
    "cache-hit": "cache_hit",
    "failed": "error",
    "errors": "error",
}
NUMERIC_FIELDS = ("cost", "latency", "ttft", "tokens")
_OPERATORS = (">=", "<=", ">", "<")
_LIST_KEYS = {
    "model": "models",
    "status": "statuses",
    "feature": "features",
    "team": "teams",
    "customer": "customers",
    "user": "users",
    "task": "task_types",
    "provider": "providers",
    "request": "requests",
    "guard": "guard_rules",
    "conversation": "conversations",
    "trace": "traces",
}
_KEY_ALIASES = {
    "models": "model",
    "req": "request",
    "prompt": "version",
    "from": "since",
    "after": "since",
    "to": "until",
    "before": "until",
    "task_type": "task",
    "session": "conversation",
    "conv": "conversation",
}
KNOWN_KEYS = (*_LIST_KEYS, "version", "run", "since", "until")
# Calls a guard flagged: the bare word, or written as a filter.
_FLAGGED = frozenset({"flagged", "flagged:yes", "flagged:true", "flagged:1", "is:flagged"})
_DURATION = re.compile(r"^(\d{1,6})(m|h|d|w)$")
_UNITS_S = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z?$")
_MILLIS = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)?$")
_WORD = re.compile(r"\w+")


class QueryError(ValueError):
    """A query the bar cannot read; `start`/`end` say which part of the text is wrong."""

    def __init__(self, message: str, start: int = 0, end: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end


@dataclass(frozen=True)
class PromptRef:
    name: str
    version: int | None = None
    """None: every version of the prompt."""


@dataclass(frozen=True)
class TimeBound:
    """An absolute moment ('2025-05-01T00:00:00.000Z') or a span before now (seconds)."""

    moment: str | None = None
    seconds_ago: int | None = None

    def resolve(self, now: datetime) -> str:
        if self.moment is not None:
            return self.moment
        return _iso(now - timedelta(seconds=self.seconds_ago or 0))


@dataclass(frozen=True)
class Comparison:
    field: str
    """One of NUMERIC_FIELDS: cost (USD), latency and ttft (ms), tokens (in + out)."""
    op: str
    value: float


@dataclass(frozen=True)
class TextTerm:
    text: str
    prefix: bool = False


@dataclass(frozen=True)
class AuditQuery:
    models: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    customers: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    task_types: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    requests: tuple[str, ...] = ()
    guard_rules: tuple[str, ...] = ()
    conversations: tuple[str, ...] = ()
    traces: tuple[str, ...] = ()
    prompts: tuple[PromptRef, ...] = ()
    runs: tuple[int, ...] = ()
    since: TimeBound | None = None
    until: TimeBound | None = None
    comparisons: tuple[Comparison, ...] = ()
    flagged: bool = False
    text: tuple[TextTerm, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        return self == AuditQuery()

    def fts_match(self) -> str | None:
        """The terms as an FTS5 MATCH expression, every user word inside a quoted string, so
        no text the user types can reach FTS5's own syntax (AND, NEAR, column filters...)."""
        parts = []
        for term in self.text:
            quoted = '"' + term.text.replace("\x00", " ").replace('"', '""') + '"'
            parts.append(quoted + " *" if term.prefix else quoted)
        return " ".join(parts) if parts else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int
    quoted: bool


def _tokens(source: str) -> list[_Token]:
    """Split on whitespace, keeping "quoted parts" (also after `key:`) in one token."""
    tokens: list[_Token] = []
    index, length = 0, len(source)
    while index < length:
        if source[index].isspace():
            index += 1
            continue
        start = index
        quoted = False
        while index < length and not source[index].isspace():
            if source[index] == '"':
                closing = source.find('"', index + 1)
                if closing < 0:
                    raise QueryError("a quote is not closed", index, length)
                quoted = True
                index = closing + 1
            else:
                index += 1
        tokens.append(_Token(source[start:index], start, index, quoted))
    return tokens


def _unquote(text: str) -> str:
    return text.replace('"', "")


def _text_term(token: _Token) -> TextTerm | None:
    if token.quoted:
        text = _unquote(token.text).strip()
        return TextTerm(text) if _WORD.search(text) else None
    prefix = token.text.endswith("*")
    text = token.text.rstrip("*")
    if not _WORD.search(text):
        return None  # punctuation alone matches nothing in a word index
    return TextTerm(text, prefix=prefix)


def _moment(value: str, *, end_of_day: bool, token: _Token) -> TimeBound:
    duration = _DURATION.match(value)
    if duration:
        return TimeBound(seconds_ago=int(duration.group(1)) * _UNITS_S[duration.group(2)])
    try:
        if _DATE.match(value):
            day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
            # Days are whole: until:2025-05-01 takes in all of the first of May.
            return TimeBound(moment=_iso(day + timedelta(days=1) if end_of_day else day))
        if _DATETIME.match(value):
            text = value.rstrip("Z")
            pattern = "%Y-%m-%dT%H:%M:%S" if text.count(":") == 2 else "%Y-%m-%dT%H:%M"
            return TimeBound(moment=_iso(datetime.strptime(text, pattern).replace(tzinfo=UTC)))
    except ValueError:
        pass
    raise QueryError(
        f"{value!r} is not a date: use 2025-05-01, 2025-05-01T14:30 or a span such as 24h, 7d",
        token.start,
        token.end,
    )


def parse_moment(value: str, now: datetime) -> str:
    """A date typed for a jump (2025-05-01, 2025-05-01T14:30, or 3d for three days ago) as
    the ISO moment it ends at: a whole day ends at the next midnight. Raises QueryError."""
    text = value.strip()
    token = _Token(text, 0, len(text), False)
    if not text:
        raise QueryError("type a date such as 2025-05-01, 2025-05-01T14:30 or 3d")
    return _moment(text, end_of_day=True, token=token).resolve(now)


def _number(name: str, value: str, token: _Token) -> float:
    text = value.strip().lstrip("$")
    if name in ("latency", "ttft"):
        match = _MILLIS.match(text)
        if match:
            return float(match.group(1)) * (1000 if match.group(2) == "s" else 1)
    else:
        try:
            number = float(text)
        except ValueError:
            number = float("nan")
        if number == number and number not in (float("inf"), float("-inf")):
            return number
    unit = "milliseconds (or 2s)" if name in ("latency", "ttft") else "a number"
    raise QueryError(f"{name} needs {unit}, not {value!r}", token.start, token.end)


def _comparison(token: _Token) -> Comparison | None:
    for op in _OPERATORS:
        name, found, value = token.text.partition(op)
        if found and name and name.lower() in NUMERIC_FIELDS and ":" not in name:
            return Comparison(name.lower(), op, _number(name.lower(), value, token))
    return None


def _unknown_key(key: str, token: _Token) -> QueryError:
    near = difflib.get_close_matches(key, [*KNOWN_KEYS, *_KEY_ALIASES], n=1)
    hint = f"did you mean {near[0]}:?" if near else "known: " + ", ".join(KNOWN_KEYS)
    return QueryError(
        f"unknown filter {key}: ({hint}); put text in quotes to search for it",
        token.start,
        token.end,
    )


def _status(value: str, token: _Token) -> str:
    status = _STATUS_ALIASES.get(value.lower(), value.lower())
    if status not in CALL_STATUSES:
        raise QueryError(
            f"unknown status {value!r} (one of {', '.join(CALL_STATUSES)})", token.start, token.end
        )
    return status


def _prompt_ref(value: str, token: _Token) -> PromptRef:
    name, at, number = value.rpartition("@")
    if not at:
        return PromptRef(value)
    if not name or not number.isdigit() or len(number) > 9:
        raise QueryError(
            f"{value!r}: a version is name@number, e.g. support-reply@3", token.start, token.end
        )
    return PromptRef(name, int(number))


def _run(value: str, token: _Token) -> int:
    if not value.isdigit() or len(value) > 18:
        raise QueryError(f"run needs a run number, not {value!r}", token.start, token.end)
    return int(value)


def _values(raw: str, key: str, token: _Token) -> list[str]:
    values = [part.strip() for part in _unquote(raw).split(",")] if raw else []
    values = [value for value in values if value]
    if not values:
        raise QueryError(f"{key}: needs a value, e.g. {key}:something", token.start, token.end)
    return values


def parse(source: str) -> AuditQuery:
    """The query typed in the bar. Raises QueryError, and only QueryError, for bad input."""
    query = AuditQuery()
    # NUL ends a string inside FTS5's query parser: treat it as the space it looks like.
    for token in _tokens(source.replace("\x00", " ")):
        if not token.quoted and token.text.lower() in _FLAGGED:
            query = replace(query, flagged=True)
            continue
        comparison = None if token.text.startswith('"') else _comparison(token)
        if comparison is not None:
            query = replace(query, comparisons=(*query.comparisons, comparison))
            continue
        key, colon, raw = token.text.partition(":")
        if not colon or key.startswith('"'):
            term = _text_term(token)
            if term is not None:
                query = replace(query, text=(*query.text, term))
            continue
        key = _KEY_ALIASES.get(key.lower(), key.lower())
        if key not in KNOWN_KEYS:
            raise _unknown_key(key, token)
        values = _values(raw, key, token)
        if key in ("since", "until"):
            if len(values) > 1:
                raise QueryError(f"{key}: takes one date", token.start, token.end)
            bound = _moment(values[0], end_of_day=key == "until", token=token)
            query = replace(query, **{key: bound})
        elif key == "version":
            refs = tuple(_prompt_ref(value, token) for value in values)
            query = replace(query, prompts=(*query.prompts, *refs))
        elif key == "run":
            query = replace(query, runs=(*query.runs, *(_run(v, token) for v in values)))
        else:
            if key == "status":
                values = [_status(value, token) for value in values]
            name = _LIST_KEYS[key]
            current: tuple[str, ...] = getattr(query, name)
            merged = current + tuple(value for value in values if value not in current)
            query = replace(query, **{name: merged})
    return query


def highlight_spans(text: str, terms: tuple[TextTerm, ...]) -> list[tuple[int, int]]:
    """Where the search terms occur in `text` (case-insensitive, on word boundaries, as the
    full-text index matches them), as sorted, non-overlapping (start, end) pairs."""
    spans: list[tuple[int, int]] = []
    for term in terms:
        words = _WORD.findall(term.text)
        if not words:
            continue
        pattern = r"\b" + r"\W+".join(re.escape(word) for word in words)
        pattern += r"\w*" if term.prefix else r"\b"
        spans.extend(match.span() for match in re.finditer(pattern, text, re.IGNORECASE))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        elif end > start:
            merged.append((start, end))
    return merged
