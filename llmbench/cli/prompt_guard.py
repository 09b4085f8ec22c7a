"""`llmbench prompts guard NAME`: a prompt's own guard policy, read over the config's [guard]."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from llmbench.cli.common import cli_settings, db_option, resolve_db

if TYPE_CHECKING:
    from llmbench.core.guard.policy import GuardPolicy


@click.command("guard")
@click.argument("name")
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="KIND=ACTION",
    help="allow, flag, redact or block for a finding kind or group (pii, injection_signals,"
    " unicode); repeat for each.",
)
@click.option("--ban", "banned", multiple=True, help="A phrase no answer may contain (repeat).")
@click.option("--unban", "unbanned", multiple=True, help="Remove a banned phrase (repeat).")
@click.option("--threshold", type=float, help="Injection score (0-1) from which to act.")
@click.option("--max-tokens-per-request", type=int, help="Token limit of a whole request.")
@click.option("--max-tokens-per-variable", type=int, help="Token limit of each untrusted value.")
@click.option(
    "--check-band",
    metavar="LOW:HIGH",
    help="The model check: inputs whose injection score is in [LOW, HIGH) are judged by"
    " --check-model, whose verdict decides; 'off' turns it off for this prompt.",
)
@click.option(
    "--check-model", help="The model that judges inputs in the band (llmbench/mock offline)."
)
@click.option("--reset", is_flag=True, help="Drop the prompt's own policy: the config's applies.")
@db_option
@click.pass_context
def prompts_guard(
    ctx: click.Context,
    name: str,
    settings: tuple[str, ...],
    banned: tuple[str, ...],
    unbanned: tuple[str, ...],
    threshold: float | None,
    max_tokens_per_request: int | None,
    max_tokens_per_variable: int | None,
    check_band: str | None,
    check_model: str | None,
    reset: bool,
    db: str | None,
) -> None:
    """Show or change prompt NAME's guard policy. Without options it shows the policy its calls
    get: each kind's action and where it comes from (the prompt or the config). Running
    gateways pick changes up within 30 s."""
    from llmbench.core.guard.policy import PolicyError, parse_policy
    from llmbench.services.database import open_store
    from llmbench.store.prompts.guard_policies import (
        delete_guard_policy,
        get_guard_policy,
        set_guard_policy,
    )
    from llmbench.store.prompts.versions import get_prompt

    config = cli_settings()
    base = config.guard.policy()
    changing = bool(
        settings
        or banned
        or unbanned
        or reset
        or threshold is not None
        or max_tokens_per_request is not None
        or max_tokens_per_variable is not None
        or check_band is not None
        or check_model is not None
    )
    with open_store(resolve_db(ctx, db), create=False) as store:
        prompt = get_prompt(store.read(), name)
        if prompt is None:
            raise click.ClickException(f"no prompt named {name!r} (llmbench prompts list)")
        found = get_guard_policy(store.read(), prompt.id)
        own: dict[str, Any] = dict(found.policy) if found else {}
        if reset:
            store.write(lambda conn: delete_guard_policy(conn, prompt.id))
            own = {}
        if changing and not reset:
            own = _changed(own, settings, banned, unbanned, threshold)
            if max_tokens_per_request is not None:
                own["max_tokens_per_request"] = max_tokens_per_request or None
            if max_tokens_per_variable is not None:
                own["max_tokens_per_variable"] = max_tokens_per_variable or None
            if check_band is not None:
                own["check_low"], own["check_high"] = _band(check_band)
            if check_model is not None:
                own["check_model"] = check_model
            try:
                parse_policy(own, base=base)
            except PolicyError as error:
                raise click.UsageError(str(error)) from None
            now = _now()
            who = config.general.reviewer
            store.write(lambda conn: set_guard_policy(conn, prompt.id, own, now, who))
    effective = parse_policy(own, base=base)
    click.echo(_describe(name, own, effective, reset))


def _changed(
    own: dict[str, Any],
    settings: tuple[str, ...],
    banned: tuple[str, ...],
    unbanned: tuple[str, ...],
    threshold: float | None,
) -> dict[str, Any]:
    actions = dict(own.get("actions") or {})
    for setting in settings:
        kind, equals, action = setting.partition("=")
        if not equals or not kind.strip() or not action.strip():
            raise click.UsageError(f"--set {setting!r}: write KIND=ACTION, e.g. pii=redact")
        actions[kind.strip()] = action.strip().lower()
    changed = dict(own)
    if actions:
        changed["actions"] = actions
    if banned or unbanned:
        phrases = [p for p in own.get("banned_phrases") or [] if p not in unbanned]
        changed["banned_phrases"] = phrases + [p for p in banned if p not in phrases]
    if threshold is not None:
        changed["injection_threshold"] = threshold
    return changed


def _band(text: str) -> tuple[float, float]:
    """LOW:HIGH as two numbers (parse_policy checks their range); "off" is the empty band."""
    if text.strip().lower() == "off":
        return 0.0, 0.0
    low, colon, high = text.partition(":")
    try:
        if not colon:
            raise ValueError
        return float(low), float(high)
    except ValueError:
        raise click.UsageError(
            f"--check-band {text!r}: write LOW:HIGH, e.g. 0.2:0.5, or off"
        ) from None


def _describe(name: str, own: dict[str, Any], policy: GuardPolicy, reset: bool) -> str:
    from llmbench.core.guard.policy import GROUPS, KINDS

    own_actions = own.get("actions") or {}

    def source(kind: str) -> str:
        if kind in own_actions:
            return "prompt"
        group = next((g for g, kinds in GROUPS.items() if kind in kinds and g in own_actions), "")
        return f"prompt ({group})" if group else "config"

    head = (
        "reset: the config's policy applies"
        if reset
        else ("own policy" if own else "no own policy: the config's applies")
    )
    lines = [f"{name}: {head}"]
    lines += [f"  {kind:<24} {policy.action(kind):<7} {source(kind)}" for kind in KINDS]
    limits = (
        ("injection_threshold", policy.injection_threshold),
        ("max_tokens_per_request", policy.max_tokens_per_request or "none"),
        ("max_tokens_per_variable", policy.max_tokens_per_variable or "none"),
        ("leak_min_words", policy.leak_min_words),
    )
    lines += [f"  {key:<24} {value}{'  (prompt)' if key in own else ''}" for key, value in limits]
    phrases = ", ".join(f'"{phrase}"' for phrase in policy.banned_phrases) or "none"
    mark = "  (prompt)" if "banned_phrases" in own else ""
    lines.append(f"  {'banned_phrases':<24} {phrases}{mark}")
    check = (
        f"[{policy.check_low:g}, {policy.check_high:g}) judged by {policy.check_model}"
        if policy.model_check
        else "off"
    )
    mark = "  (prompt)" if own.keys() & {"check_low", "check_high", "check_model"} else ""
    lines.append(f"  {'model_check':<24} {check}{mark}")
    return "\n".join(lines)


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
