"""A prompt's own guard policy, read over the config's [guard], as F2's guard dialog shows and
changes it: the settings `llmbench prompts guard` sets, checked by the same `parse_policy`, so a
value the CLI refuses is refused here with the same words and nothing is saved.

The policy is kept as the plain data the user set (store/prompts/guard_policies.py): fields the
dialog does not edit (`leak_min_words`) are kept as they were.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llmbench.core.guard.policy import (
    ACTIONS,
    GROUPS,
    KINDS,
    GuardPolicy,
    PolicyError,
    parse_policy,
)
from llmbench.store.db import Store
from llmbench.store.prompts.guard_policies import (
    delete_guard_policy,
    get_guard_policy,
    set_guard_policy,
)
from llmbench.store.prompts.versions import get_prompt_by_id
from llmbench.store.timestamps import utc_now

__all__ = [
    "PHRASE_SEPARATOR",
    "PolicyError",
    "PolicyView",
    "checked_policy",
    "form_values",
    "read_policy",
    "reset_policy",
    "save_policy",
]

PHRASE_SEPARATOR = ";"
"""Banned phrases are typed on one line, separated by this (a phrase may hold commas)."""
NO_LIMIT = ("0", "none")
"""Typed as a token limit: no limit, even when the config sets one (the CLI's 0)."""
_FORM_KEYS = (
    "actions",
    "injection_threshold",
    "max_tokens_per_request",
    "max_tokens_per_variable",
    "banned_phrases",
)


@dataclass(frozen=True)
class PolicyView:
    """What a prompt's calls get: its own settings, and the policy they make over the config's.
    `problem` says why a stored policy cannot be read (edited by hand): the config's applies."""

    prompt_id: int
    prompt: str
    own: dict[str, Any]
    policy: GuardPolicy
    problem: str | None = None

    def source(self, kind: str) -> str:
        """Where a kind's action comes from: the prompt (itself or a group), else the config."""
        actions = self.own.get("actions") or {}
        if kind in actions:
            return "prompt"
        group = next((g for g, kinds in GROUPS.items() if kind in kinds and g in actions), "")
        return f"prompt ({group})" if group else "config"

    def by_action(self) -> dict[str, list[tuple[str, bool]]]:
        """Each action with its kinds, in the guard's order, and whether the prompt set it."""
        grouped: dict[str, list[tuple[str, bool]]] = {action: [] for action in ACTIONS}
        for kind in KINDS:
            own = self.source(kind) != "config"
            grouped.setdefault(self.policy.action(kind), []).append((kind, own))
        return {action: kinds for action, kinds in grouped.items() if kinds}


def read_policy(store: Store, prompt_id: int, base: GuardPolicy) -> PolicyView:
    db = store.read()
    found = get_guard_policy(db, prompt_id)
    name = found.prompt if found else _prompt_name(db, prompt_id)
    own = dict(found.policy) if found else {}
    try:
        return PolicyView(prompt_id, name, own, parse_policy(own, base=base))
    except PolicyError as error:
        return PolicyView(prompt_id, name, own, base, problem=str(error))


def save_policy(
    store: Store, prompt_id: int, own: Mapping[str, Any], base: GuardPolicy, *, by: str
) -> PolicyView:
    """Replace the prompt's own policy with `own`; PolicyError, and nothing written, when
    parse_policy refuses it. An empty policy is dropped: the config's applies."""
    if not own:
        return reset_policy(store, prompt_id, base)
    parse_policy(own, base=base)
    plain = dict(own)
    now = utc_now()
    store.write(lambda db: set_guard_policy(db, prompt_id, plain, now, by))
    return read_policy(store, prompt_id, base)


def reset_policy(store: Store, prompt_id: int, base: GuardPolicy) -> PolicyView:
    store.write(lambda db: delete_guard_policy(db, prompt_id))
    return read_policy(store, prompt_id, base)


def form_values(own: Mapping[str, Any]) -> dict[str, str]:
    """The prompt's own settings as the dialog's text fields (empty: the config's applies)."""
    actions = own.get("actions") or {}
    phrases = own.get("banned_phrases")
    return {
        "actions": ", ".join(f"{kind}={action}" for kind, action in actions.items()),
        "injection_threshold": _text(own, "injection_threshold"),
        "max_tokens_per_request": _text(own, "max_tokens_per_request"),
        "max_tokens_per_variable": _text(own, "max_tokens_per_variable"),
        "banned_phrases": (
            f"{PHRASE_SEPARATOR} ".join(str(phrase) for phrase in phrases)
            if isinstance(phrases, list | tuple)
            else ""
        ),
    }


def checked_policy(
    values: Mapping[str, str], kept: Mapping[str, Any], base: GuardPolicy
) -> dict[str, Any]:
    """The own policy the dialog's fields make (fields it does not show kept from `kept`),
    checked as `llmbench prompts guard` checks it. Raises PolicyError saying what is wrong."""
    shown = form_values(kept)
    # A field left as shown keeps its stored value exactly (a banned phrase holding a `;`
    # cannot be typed back as one phrase, and is not split for being left alone).
    untouched = {key for key in _FORM_KEYS if key in kept and values.get(key) == shown[key]}
    own = {key: value for key, value in kept.items() if key not in _FORM_KEYS}
    values = {key: text for key, text in values.items() if key not in untouched}
    own.update({key: kept[key] for key in untouched})
    actions = _actions(values.get("actions", ""))
    if actions:
        own["actions"] = actions
    threshold = values.get("injection_threshold", "").strip()
    if threshold:
        own["injection_threshold"] = _number(threshold)
    for name in ("max_tokens_per_request", "max_tokens_per_variable"):
        limit = values.get(name, "").strip()
        if limit:
            own[name] = None if limit.lower() in NO_LIMIT else _number(limit)
    phrases = [p.strip() for p in values.get("banned_phrases", "").split(PHRASE_SEPARATOR)]
    if any(phrases):
        own["banned_phrases"] = list(dict.fromkeys(phrase for phrase in phrases if phrase))
    parse_policy(own, base=base)
    return own


def _actions(text: str) -> dict[str, str]:
    actions: dict[str, str] = {}
    # "pii = redact" is one setting: spaces around `=` are not separators.
    for setting in re.split(r"[,\s]+", re.sub(r"\s*=\s*", "=", text.strip())):
        if not setting:
            continue
        kind, equals, action = setting.partition("=")
        if not equals or not kind.strip() or not action.strip():
            raise PolicyError(f"actions: {setting!r}: write KIND=ACTION, e.g. pii=redact")
        actions[kind.strip()] = action.strip().lower()
    return actions


def _number(text: str) -> int | float | str:
    """A typed number as the CLI's options read it; anything else is left as text for
    parse_policy to refuse with the field's own message."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def _text(own: Mapping[str, Any], key: str) -> str:
    if key not in own:
        return ""
    value = own[key]
    return "none" if value is None else str(value)


def _prompt_name(db: Any, prompt_id: int) -> str:
    prompt = get_prompt_by_id(db, prompt_id)
    if prompt is None:
        raise ValueError(f"no prompt with id {prompt_id}")
    return prompt.name
