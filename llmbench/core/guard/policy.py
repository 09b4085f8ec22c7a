"""What to do about what the guards find: a policy per prompt (and a default) maps each kind of
finding to allow, flag, redact or block, and `decide` applies it.

The guards (core/guard/input_guard.py, core/guard/output_guard.py) only report findings;
whether a finding stops a call, is shown as a flag or is cut out of the text is the policy's
business, so the same detectors serve a strict customer-facing prompt and a lenient internal
one.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Action = Literal["allow", "flag", "redact", "block"]
ACTIONS: tuple[Action, ...] = ("allow", "flag", "redact", "block")  # in rising severity

# Input guard: limits, hidden characters, the injection signals, and "injection" itself, the
# finding raised when the combined score reaches the threshold.
INJECTION_SIGNALS: tuple[str, ...] = (
    "override",
    "jailbreak",
    "fence_escape",
    "prompt_extraction",
    "exfiltration",
    "indirect",
    "encoded_payload",
    "classifier",
)
# "model_check": the model check (core/guard/model_check.py) gave no verdict on a text in its
# band; the score's decision stands, and this finding says why.
INPUT_KINDS: tuple[str, ...] = (
    "token_limit",
    "invisible",
    "bidi",
    *INJECTION_SIGNALS,
    "injection",
    "model_check",
)
PII_KINDS: tuple[str, ...] = ("email", "phone", "credit_card", "iban", "ssn", "ip_address")
OUTPUT_KINDS: tuple[str, ...] = (*PII_KINDS, "secret", "prompt_leak", "banned_phrase")
KINDS: tuple[str, ...] = (*INPUT_KINDS, *OUTPUT_KINDS)
# Names a policy may use for several kinds at once; a kind named on its own wins over its group.
GROUPS: dict[str, tuple[str, ...]] = {
    "pii": PII_KINDS,
    "injection_signals": INJECTION_SIGNALS,
    "unicode": ("invisible", "bidi"),
}

DEFAULT_INJECTION_THRESHOLD = 0.5
DEFAULT_LEAK_MIN_WORDS = 8

# The single signals only feed the score: acting on each would flag every "system prompt"
# mention. Secrets are cut out of what is shown and stored; limits and banned phrases stop the
# call, since the user asked for exactly that by setting them.
_DEFAULT_ACTIONS: dict[str, Action] = {
    **dict.fromkeys(INJECTION_SIGNALS, "allow"),
    "injection": "flag",
    "model_check": "flag",
    "token_limit": "block",
    "invisible": "flag",
    "bidi": "flag",
    **dict.fromkeys(PII_KINDS, "flag"),
    "secret": "redact",
    "prompt_leak": "flag",
    "banned_phrase": "block",
}


class PolicyError(ValueError):
    """A policy cannot be read; the message names the field and what is wrong with it."""


@dataclass(frozen=True)
class Finding:
    """One thing a guard found, at [start, end) of the text named by `where` (a variable's
    name for the input guard; "" for a single text such as a model's answer)."""

    rule: str
    kind: str
    start: int
    end: int
    score: float = 0.0
    """Contribution to the injection score (input signals); 0 for everything else."""
    where: str = ""
    detail: str = ""
    """For a person: the matched phrase of an injection signal, the figures of a limit. Never
    the matched text of a secret or of personal data."""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
        }
        if self.score:
            data["score"] = round(self.score, 3)
        if self.where:
            data["where"] = self.where
        if self.detail:
            data["detail"] = self.detail
        return data


@dataclass(frozen=True)
class GuardPolicy:
    """A prompt's guard settings. Limits of None mean no limit."""

    actions: Mapping[str, Action] = field(default_factory=lambda: dict(_DEFAULT_ACTIONS))
    injection_threshold: float = DEFAULT_INJECTION_THRESHOLD
    banned_phrases: tuple[str, ...] = ()
    max_tokens_per_request: int | None = None
    max_tokens_per_variable: int | None = None
    leak_min_words: int = DEFAULT_LEAK_MIN_WORDS
    check_low: float = 0.0
    check_high: float = 0.0
    """The model check's uncertain band [check_low, check_high): an input whose injection
    score falls in it is shown to check_model, whose verdict decides (core/guard/model_check.py).
    Off while the band is empty (the default)."""
    check_model: str = ""

    @property
    def model_check(self) -> bool:
        return bool(self.check_model) and self.check_high > self.check_low

    def action(self, kind: str) -> Action:
        # A kind this policy has never heard of (a newer guard's) is shown rather than ignored.
        return self.actions.get(kind, "flag")


DEFAULT_POLICY = GuardPolicy()


@dataclass(frozen=True)
class GuardDecision:
    blocked: bool
    reason: str
    """Why the call is blocked: each blocking finding's rule and detail; "" when not blocked."""
    flags: tuple[Finding, ...]
    redactions: tuple[Finding, ...]
    redacted: Mapping[str, str]
    """Each text ("" or a variable's name) with the redacted findings replaced."""

    @property
    def text(self) -> str:
        """The single text, redacted (for decisions on one text such as a model's answer)."""
        return self.redacted.get("", "")

    @property
    def flag_rules(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(finding.rule for finding in self.flags))


def decide(
    findings: Iterable[Finding], policy: GuardPolicy, texts: str | Mapping[str, str] = ""
) -> GuardDecision:
    """Apply the policy: block on any blocking finding, collect flags, and redact the text(s)
    the findings point into. A single string is the text of findings whose `where` is ""."""
    sources = {"": texts} if isinstance(texts, str) else dict(texts)
    blocking: list[Finding] = []
    flags: list[Finding] = []
    redactions: list[Finding] = []
    for finding in findings:
        action = policy.action(finding.kind)
        if action == "block":
            blocking.append(finding)
        elif action == "flag":
            flags.append(finding)
        elif action == "redact" and finding.where in sources:
            redactions.append(finding)
    redacted = {
        where: redact_spans(text, [f for f in redactions if f.where == where])
        for where, text in sources.items()
    }
    return GuardDecision(
        blocked=bool(blocking),
        reason="; ".join(_describe(finding) for finding in blocking),
        flags=tuple(flags),
        redactions=tuple(redactions),
        redacted=redacted,
    )


def _describe(finding: Finding) -> str:
    where = f" in {finding.where}" if finding.where else ""
    detail = f": {finding.detail}" if finding.detail else ""
    return f"{finding.rule}{where}{detail}"


def redaction_mark(kind: str) -> str:
    return f"[REDACTED:{kind}]"


def redact_spans(text: str, findings: Iterable[Finding]) -> str:
    """Replace each finding's span by [REDACTED:kind]. Overlapping spans are merged into one
    mark (named by the finding that starts first, the longer on a tie); spans are clipped to
    the text."""
    clipped = ((max(0, f.start), min(len(text), f.end), f.kind) for f in findings)
    spans = sorted(
        (span for span in clipped if span[1] > span[0]), key=lambda span: (span[0], -span[1])
    )
    pieces: list[str] = []
    position = 0
    for start, end, kind in spans:
        if start < position:  # overlaps the span just replaced: its mark covers this too
            position = max(position, end)
            continue
        pieces.append(text[position:start])
        pieces.append(redaction_mark(kind))
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


# -- reading a policy from plain data (the config file or the database) ------------------------

_FIELDS = (
    "actions",
    "injection_threshold",
    "banned_phrases",
    "max_tokens_per_request",
    "max_tokens_per_variable",
    "leak_min_words",
    "check_low",
    "check_high",
    "check_model",
)


def parse_policy(data: object, base: GuardPolicy = DEFAULT_POLICY) -> GuardPolicy:
    """A policy from a plain dict such as
    {"actions": {"pii": "redact", "injection": "block"}, "injection_threshold": 0.6,
     "banned_phrases": ["as an AI language model"], "max_tokens_per_variable": 2000,
     "check_low": 0.2, "check_high": 0.5, "check_model": "openai/gpt-4o-mini"}.
    Fields left out keep the base policy's values; actions are merged over the base's, groups
    ("pii", "injection_signals", "unicode") first, then single kinds. Raises PolicyError."""
    if not isinstance(data, Mapping):
        raise PolicyError(f"a guard policy is a table of settings, not {type(data).__name__}")
    for key in data:
        if key not in _FIELDS:
            raise PolicyError(f"unknown setting {key!r}{_suggest(str(key), _FIELDS)}")
    return GuardPolicy(
        actions=_actions(data.get("actions", {}), base.actions),
        injection_threshold=_threshold(data, base.injection_threshold),
        banned_phrases=_phrases(data, base.banned_phrases),
        max_tokens_per_request=_limit(data, "max_tokens_per_request", base.max_tokens_per_request),
        max_tokens_per_variable=_limit(
            data, "max_tokens_per_variable", base.max_tokens_per_variable
        ),
        leak_min_words=_leak_words(data, base.leak_min_words),
        **_model_check(data, base),
    )


def _actions(data: object, base: Mapping[str, Action]) -> dict[str, Action]:
    if not isinstance(data, Mapping):
        raise PolicyError("actions: a table of kind = action")
    actions = dict(base)
    names = (*GROUPS, *KINDS)
    # Groups first, so "pii = redact, email = block" means what it says in any order.
    ordered = sorted(data.items(), key=lambda item: item[0] not in GROUPS)
    for name, action in ordered:
        if not isinstance(name, str) or name not in names:
            raise PolicyError(f"actions: unknown kind {name!r}{_suggest(str(name), names)}")
        if action not in ACTIONS:
            raise PolicyError(
                f"actions.{name}: unknown action {action!r} (one of {', '.join(ACTIONS)})"
            )
        for kind in GROUPS.get(name, (name,)):
            actions[kind] = action
    return actions


def _threshold(data: Mapping[str, object], default: float) -> float:
    value = data.get("injection_threshold", default)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 < value <= 1
    ):
        raise PolicyError(f"injection_threshold: a number above 0 and at most 1, not {value!r}")
    return float(value)


def _phrases(data: Mapping[str, object], default: tuple[str, ...]) -> tuple[str, ...]:
    value = data.get("banned_phrases", default)
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise PolicyError("banned_phrases: a list of phrases")
    phrases = []
    for index, phrase in enumerate(value):
        if not isinstance(phrase, str) or not phrase.strip():
            raise PolicyError(f"banned_phrases[{index}]: a non-empty phrase, not {phrase!r}")
        phrases.append(phrase)
    return tuple(phrases)


def _limit(data: Mapping[str, object], name: str, default: int | None) -> int | None:
    value = data.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PolicyError(f"{name}: a positive number of tokens, not {value!r}")
    return value


def _leak_words(data: Mapping[str, object], default: int) -> int:
    value = data.get("leak_min_words", default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 3:
        raise PolicyError(f"leak_min_words: a whole number of words, at least 3, not {value!r}")
    return value


def _model_check(data: Mapping[str, object], base: GuardPolicy) -> dict[str, Any]:
    """The band and the judge model. Both ends 0 turn the check off; a band needs a model (no
    judge is picked for the user: a built-in one would answer without judging)."""
    low = _band_end(data, "check_low", base.check_low)
    high = _band_end(data, "check_high", base.check_high)
    model = data.get("check_model", base.check_model)
    if not isinstance(model, str) or model != model.strip():
        raise PolicyError(f"check_model: a model name such as 'openai/gpt-4o-mini', not {model!r}")
    if high or low:
        if low >= high:
            raise PolicyError(
                f"check_low ({low:g}) must be below check_high ({high:g}): the band is"
                " [check_low, check_high); set both to 0 to turn the model check off"
            )
        if not model:
            raise PolicyError("check_model: the model that judges scores in the band is not set")
    return {"check_low": low, "check_high": high, "check_model": model}


def _band_end(data: Mapping[str, object], name: str, default: float) -> float:
    value = data.get(name, default)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= 1
    ):
        raise PolicyError(f"{name}: an injection score from 0 to 1, not {value!r}")
    return float(value)


def _suggest(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
