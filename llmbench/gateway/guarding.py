"""The guards at the gateway's door: the input guard before a call, the output guard after it,
each finding acted on by the call's policy (the prompt's own over the config's [guard]).

What each action does:

- allow: nothing; the finding is not recorded.
- flag: the call goes ahead; the audit row lists the finding in guard_flags, flagged = 1.
- redact: the finding's span is replaced by [REDACTED:kind], in what the provider receives
  (input) or what the caller receives (output), and in what is stored; listed in guard_flags.
- block: input: no provider call; one audit row with status "blocked", error_kind
  "guard_input" and the reason. Output: the provider answered (and billed), but the caller gets
  outcomes.GuardBlocked (a GatewayError) instead of the text; the row keeps its tokens and cost,
  status "blocked", error_kind "guard_output", and the answer with every blocking span
  masked, so the audit log never holds what was withheld. A streamed answer has already
  reached the caller piece by piece: there block and redact apply to what is stored only, and
  the flag says so.

Which input text is scanned: the values a template fenced as untrusted (<user_input>,
<retrieved_context>, <conversation_history>) wherever they stand, and the whole content of user
and tool messages that hold no fence (calls made with plain messages), and the tool results
of Anthropic `tool_result` blocks; an injection in a tool result is `injection.tool_result`.
System and assistant text, and tool definitions, are the developer's and the model's, not
checked for injection; the answer's tool-call arguments get the output guard
(gateway/tool_guarding.py).

The model check (off by default; gateway/guard_check.py): a text whose injection score is in
the policy's band [check_low, check_high) is judged by the policy's check_model, called through
the gateway as a call of its own, and the verdict decides; with no verdict the score does.

Spans in guard_flags are character offsets in the text named by `where` as it was received
(a message's content, or "response"). No excerpt or detail holds any part of a secret or of
personal data, the finding's own or a neighbour's (core/guard/excerpts.py): the excerpt of a
secret or personal data is the words around it, every other one its matched text, each with
every secret and piece of personal data of the whole text masked.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from llmbench.core.guard.excerpts import ExcerptMaker, sensitive_findings
from llmbench.core.guard.input_guard import as_tool_result, scan_text, token_limit_finding
from llmbench.core.guard.model_check import in_band
from llmbench.core.guard.output_guard import check_output, pii_findings
from llmbench.core.guard.policy import (
    Finding,
    GuardPolicy,
    PolicyError,
    decide,
    parse_policy,
    redact_spans,
)
from llmbench.core.prompts.templates import SYSTEM_SECTIONS
from llmbench.core.tokens import count_message_tokens
from llmbench.gateway.guard_check import CheckCall, Segment, judging, model_check
from llmbench.gateway.tool_guarding import (
    TOOL_RESULT,
    TOOL_ROLES,
    tool_result_texts,
    with_tool_result_text,
)
from llmbench.store.prompts.guard_policies import policy_of_version
from llmbench.store.prompts.versions import get_version

if TYPE_CHECKING:
    from llmbench.config import GuardSettings
    from llmbench.store.db import Store

# `llmbench prompts guard` in another process reaches a running gateway within this long.
GUARD_REFRESH_S = 30.0
RESPONSE = "response"
_FENCED = re.compile(
    r"<(user_input|retrieved_context|conversation_history)>\n(.*?)\n</\1>", re.DOTALL
)
_SCANNED_ROLES = frozenset({"user", "tool", "function"})


@dataclass(frozen=True)
class GuardContext:
    """What the guards need to know about one call's prompt."""

    policy: GuardPolicy
    static_sections: tuple[tuple[str, str], ...] = ()
    """The prompt version's system sections as written; empty: the request's system messages."""


@dataclass(frozen=True)
class InputVerdict:
    blocked: bool
    reason: str
    messages: list[dict[str, Any]]
    """What the provider receives: redacted spans replaced."""
    stored_messages: list[dict[str, Any]]
    """What the audit row keeps (personal data masked too with redact_stored_bodies)."""
    flags: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class OutputVerdict:
    blocked: bool
    reason: str
    text: str
    """What the caller receives."""
    stored_text: str
    flags: tuple[dict[str, Any], ...]


def guard_columns(flags: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The audit row's guard_flags and flagged."""
    return {
        "guard_flags": json.dumps(list(flags), ensure_ascii=False) if flags else "[]",
        "flagged": int(bool(flags)),
    }


class Guard:
    """The input and output guards of one gateway, with the default policy from the settings
    and each prompt's own read from the database (re-read every GUARD_REFRESH_S)."""

    def __init__(self, settings: GuardSettings, store: Store | None = None) -> None:
        self.enabled = settings.enabled
        self.redact_stored = settings.redact_stored_bodies
        self.default = GuardContext(settings.policy())
        self._store = store
        self._contexts: dict[int, tuple[float, GuardContext]] = {}

    def context(self, prompt_version_id: int | None) -> GuardContext:
        if prompt_version_id is None or self._store is None:
            return self.default
        cached = self._contexts.get(prompt_version_id)
        if cached is not None and time.monotonic() - cached[0] <= GUARD_REFRESH_S:
            return cached[1]
        db = self._store.read()
        version = get_version(db, prompt_version_id)
        sections = (
            tuple(
                (name, version.sections[name])
                for name in SYSTEM_SECTIONS
                if name in version.sections
            )
            if version is not None
            else ()
        )
        stored = policy_of_version(db, prompt_version_id)
        try:
            policy = (
                parse_policy(stored, base=self.default.policy) if stored else self.default.policy
            )
        except PolicyError:
            # A row edited by hand into nonsense: keep the last good policy rather than none.
            policy = cached[1].policy if cached is not None else self.default.policy
        context = GuardContext(policy, sections)
        self._contexts[prompt_version_id] = (time.monotonic(), context)
        return context

    # -- before the call -------------------------------------------------------------------------

    def check_input(
        self, messages: Sequence[Mapping[str, Any]], context: GuardContext, model: str
    ) -> InputVerdict:
        texts, findings, _ = self._scan(messages, context.policy, model)
        return self._input_verdict(messages, context.policy, texts, findings)

    async def check_input_checked(
        self,
        messages: Sequence[Mapping[str, Any]],
        context: GuardContext,
        model: str,
        call: CheckCall,
    ) -> InputVerdict:
        """check_input, with the policy's model check of the texts whose score is in its band
        (gateway/guard_check.py). A model check's own call is not guarded: its input is the
        text being judged."""
        if judging():
            return self._unguarded(messages)
        policy = context.policy
        texts, findings, segments = self._scan(messages, policy, model)
        if policy.model_check:
            uncertain = [
                segment
                for segment in segments
                if in_band(segment.score, policy.check_low, policy.check_high)
            ]
            if uncertain:
                threshold = policy.injection_threshold
                findings = await model_check(uncertain, findings, policy, threshold, call)
        return self._input_verdict(messages, policy, texts, findings)

    def _scan(
        self, messages: Sequence[Mapping[str, Any]], policy: GuardPolicy, model: str
    ) -> tuple[list[tuple[str, str, str]], list[Finding], list[Segment]]:
        """The texts scanned, what the input guard found in them, and each scanned segment
        with its injection score."""
        texts = _texts(messages)
        findings: list[Finding] = []
        segments: list[Segment] = []
        for where, text, role in texts:
            for start, segment in _segments(text, role):
                report = scan_text(segment, where=where, threshold=policy.injection_threshold)
                segments.append(Segment(where, start, segment, report.score))
                found = list(report.findings)
                if policy.max_tokens_per_variable is not None:
                    over = token_limit_finding(
                        segment, policy.max_tokens_per_variable, model=model, where=where
                    )
                    if over is not None:
                        found.append(over)
                if role in TOOL_ROLES:  # indirect injection (gateway/tool_guarding.py)
                    found = [as_tool_result(finding) for finding in found]
                findings += [_shifted(finding, start) for finding in found] if start else found
        if policy.max_tokens_per_request is not None:
            total = count_message_tokens(messages, model)
            if total > policy.max_tokens_per_request:
                findings.append(
                    Finding(
                        "token_limit.request",
                        "token_limit",
                        0,
                        0,
                        detail=f"{total:,} tokens > {policy.max_tokens_per_request:,} per request",
                    )
                )
        return texts, findings, segments

    def _input_verdict(
        self,
        messages: Sequence[Mapping[str, Any]],
        policy: GuardPolicy,
        texts: list[tuple[str, str, str]],
        findings: list[Finding],
    ) -> InputVerdict:
        if not findings and not self.redact_stored:  # the usual case, kept cheap
            return InputVerdict(False, "", list(messages), list(messages), ())
        sources = {where: text for where, text, _ in texts}
        decision = decide(findings, policy, sources)
        sent = _replace_texts(messages, decision.redacted, sources)
        stored = self._stored(sent)
        excerpts = ExcerptMaker(sources)
        flags = tuple(
            _flag(f, policy.action(f.kind), "input", excerpts) for f in _acted_on(findings, policy)
        )
        return InputVerdict(decision.blocked, decision.reason, sent, stored, flags)

    def _unguarded(self, messages: Sequence[Mapping[str, Any]]) -> InputVerdict:
        sent = [dict(message) for message in messages]
        return InputVerdict(False, "", sent, self._stored(sent), ())

    def _stored(self, sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """What the audit row keeps of what is sent: personal data masked when asked."""
        if not self.redact_stored:
            return sent
        sent_texts = {where: text for where, text, _ in _texts(sent)}
        masked = {where: _mask_pii(text) for where, text in sent_texts.items()}
        return _replace_texts(sent, masked, sent_texts)

    # -- after the call --------------------------------------------------------------------------

    def check_output(
        self,
        text: str,
        messages: Sequence[Mapping[str, Any]],
        context: GuardContext,
        *,
        known_secrets: Iterable[str] = (),
        streamed: bool = False,
    ) -> OutputVerdict:
        policy = context.policy
        known_secrets = tuple(known_secrets)  # read twice: by the guard and by the excerpts
        sections: Mapping[str, str] | Iterable[str] = dict(context.static_sections) or [
            content for role, content in _system_texts(messages)
        ]
        sensitive = sensitive_findings(text, known_secrets)  # found once: guard and excerpts
        findings = check_output(
            text,
            static_sections=sections,
            banned_phrases=policy.banned_phrases,
            leak_min_words=policy.leak_min_words,
            known_secrets=known_secrets,
            detected=sensitive,
        )
        if not findings and not self.redact_stored:
            return OutputVerdict(False, "", text, text, ())
        acted = _acted_on(findings, policy)
        decision = decide(findings, policy, text)
        masked = [f for f in acted if policy.action(f.kind) in ("block", "redact")]
        stored = redact_spans(text, masked)
        if self.redact_stored:
            stored = _mask_pii(stored)
        excerpts = ExcerptMaker({RESPONSE: text}, known_secrets, {RESPONSE: sensitive})
        flags = []
        for finding in acted:
            action = policy.action(finding.kind)
            entry = _flag(replace(finding, where=RESPONSE), action, "output", excerpts)
            if streamed and action in ("block", "redact"):
                entry["action"] = "flag"
                entry["note"] = f"streamed: already shown; the policy says {action}"
            flags.append(entry)
        if streamed:
            return OutputVerdict(False, "", text, stored, tuple(flags))
        return OutputVerdict(decision.blocked, decision.reason, decision.text, stored, tuple(flags))

    # -- calls logged after the fact (the litellm callback) ---------------------------------------

    def flags_for_logged_call(
        self, messages: Sequence[Mapping[str, Any]], response: str | None
    ) -> tuple[dict[str, Any], ...]:
        """Both guards over a call made elsewhere: too late to block or redact, so every
        finding the default policy acts on becomes a flag that names the action it would have
        taken."""
        if not self.enabled:
            return ()
        context = self.default
        flags = list(self.check_input(messages, context, "gpt-4o-mini").flags)
        if response:
            flags += self.check_output(response, messages, context).flags
        for entry in flags:
            if entry["action"] != "flag":
                entry["note"] = f"logged after the call; the policy says {entry['action']}"
                entry["action"] = "flag"
        return tuple(flags)


# -- which texts, and where in them ----------------------------------------------------------------


def _texts(messages: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    """(where, text, role) of every text in the messages: a string content, or each text part
    of a list content."""
    found: list[tuple[str, str, str]] = []
    for index, message in enumerate(messages):
        role = str(message.get("role", ""))
        content = message.get("content")
        if isinstance(content, str):
            found.append((f"messages[{index}]", content, role))
        elif isinstance(content, list):
            for part_index, part in enumerate(content):
                if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                    found.append((f"messages[{index}].content[{part_index}]", part["text"], role))
                elif isinstance(part, Mapping) and part.get("type") == TOOL_RESULT:
                    where = f"messages[{index}].content[{part_index}]"
                    found += tool_result_texts(where, part)
    return found


def _system_texts(messages: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    return [(role, text) for _, text, role in _texts(messages) if role in ("system", "developer")]


def _segments(text: str, role: str) -> list[tuple[int, str]]:
    """The parts of a text the input guard scans, with where each starts."""
    if "<" in text:
        fenced = [(match.start(2), match.group(2)) for match in _FENCED.finditer(text)]
        if fenced:
            return fenced
    return [(0, text)] if role in _SCANNED_ROLES and text else []


def _shifted(finding: Finding, offset: int) -> Finding:
    return replace(finding, start=finding.start + offset, end=finding.end + offset)


def _replace_texts(
    messages: Sequence[Mapping[str, Any]], new: Mapping[str, str], old: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The messages with each text whose value changed replaced (copies; unchanged messages
    are shallow copies too, so the caller's list is never touched)."""
    changed = {where: text for where, text in new.items() if old.get(where) != text}
    result = [dict(message) for message in messages]
    for where, text in changed.items():
        index, _, part = where.removeprefix("messages[").partition("]")
        message = result[int(index)]
        if not part:
            message["content"] = text
            continue
        head, _, inner = part.removeprefix(".content[").partition("]")
        part_index = int(head)
        parts = [dict(p) if isinstance(p, Mapping) else p for p in message["content"]]
        if inner:  # inside a tool_result block (gateway/tool_guarding.py)
            parts[part_index] = with_tool_result_text(parts[part_index], inner, text)
        else:
            parts[part_index]["text"] = text
        message["content"] = parts
    return result


def _mask_pii(text: str) -> str:
    return redact_spans(text, pii_findings(text)) if text else text


# -- what goes into guard_flags --------------------------------------------------------------------


def _acted_on(findings: Iterable[Finding], policy: GuardPolicy) -> list[Finding]:
    return [finding for finding in findings if policy.action(finding.kind) != "allow"]


def _flag(finding: Finding, action: str, stage: str, excerpts: ExcerptMaker) -> dict[str, Any]:
    entry: dict[str, Any] = {"stage": stage, "action": action, **finding.to_json()}
    if finding.detail:
        entry["detail"] = excerpts.detail(finding)
    excerpt = excerpts.excerpt(finding)
    if excerpt:
        entry["excerpt"] = excerpt
    return entry
