"""What an alert says in full, whatever raised it: a drift (F7's check), a spend-spike incident
or a budget (F5's check), a retention purge. F5 and F7 both show alerts from the one table, so
each kind is worded from its own facts here, never from another kind's (no "since None").
Alerts written by earlier versions, with fewer facts, read as completely as their facts allow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmbench.store.alerts import AlertRow

SHOWN_RUNS = 8  # an incident's runs listed before "… and N more"
SHOWN_CALLS = 3


def usd(value: Any) -> str:
    if not isinstance(value, int | float):
        return "an unknown amount"
    return f"${value:,.2f}" if abs(value) >= 0.01 or value == 0 else f"${value:,.4f}"


def show_value(unit: str, value: Any) -> str:
    """A value of a drift series in its unit: '85.0%', '1,234 ms', '4.20'."""
    if not isinstance(value, int | float):
        return "?"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit == "ms":
        return f"{value:,.0f} ms"
    return f"{value:.2f}"


def _hour(text: Any) -> str:
    return str(text)[:16].replace("T", " ")


def _drift(alert: AlertRow, context: Mapping[str, Any]) -> list[str]:
    label = context.get("label") or context.get("series") or "a series"
    unit = str(context.get("unit", ""))
    change = context.get("change")
    moved = f" ({change * 100:+.1f}%)" if isinstance(change, int | float) else ""
    since = context.get("since")
    found = context.get("detected")
    when = f", since {since}" if since else ""
    when += f", found {found}" if found else ""
    return [
        f"#{alert.id} drift: {label} {show_value(unit, context.get('baseline'))} → "
        f"{show_value(unit, context.get('current'))}{moved}{when}"
    ]


def _spike(alert: AlertRow, context: Mapping[str, Any]) -> list[str]:
    lines = [f"#{alert.id} {alert.message}"]
    runs = context.get("children") or []
    if context.get("since") and context.get("until"):
        lines.append(
            f"Window {_hour(context['since'])} → {_hour(context['until'])} UTC"
            + (f"  ·  F6: {context['audit_query']}" if context.get("audit_query") else "")
        )
    elif context.get("audit_query"):
        lines.append(f"F6: {context['audit_query']}")
    if runs:
        lines.append(f"{len(runs)} series spiked in this incident:")
        lines += [f"  ‣ {run.get('text', run.get('label', '?'))}" for run in runs[:SHOWN_RUNS]]
        if len(runs) > SHOWN_RUNS:
            lines.append(f"  … and {len(runs) - SHOWN_RUNS} more")
    if context.get("continues"):
        shown = ", ".join(f"#{number}" for number in context["continues"])
        lines.append(f"Continues {shown}, acknowledged before this part was found")
    return lines


def _budget(alert: AlertRow, context: Mapping[str, Any]) -> list[str]:
    scope = context.get("scope", "global")
    label = scope if scope == "global" or not context.get("scope_value") else (
        f"{scope}={context['scope_value']}"
    )  # fmt: skip
    period = context.get("period", "period")
    used = ""
    spent, limit = context.get("spent"), context.get("limit")
    if isinstance(spent, int | float) and isinstance(limit, int | float) and limit > 0:
        used = f" ({spent / limit:.0%})"
    start = f" since {str(context['period_start'])[:10]}" if context.get("period_start") else ""
    heading = (
        f", heading for {usd(context['projected'])}"
        if isinstance(context.get("projected"), int | float)
        else ""
    )
    return [
        f"#{alert.id} budget {label}, {usd(limit)} a {period}: spent {usd(spent)}{used}"
        f"{start}{heading}"
    ]


def _retention(alert: AlertRow, context: Mapping[str, Any]) -> list[str]:
    lines = [f"#{alert.id} {alert.message}"]
    parts = []
    if context.get("policy"):
        parts.append(f"policy {context['policy']}")
    if context.get("purge_record") is not None:
        parts.append(f"purge record #{context['purge_record']}")
    if parts:
        lines.append("  ·  ".join(parts))
    return lines


def _other(alert: AlertRow, context: Mapping[str, Any]) -> list[str]:
    facts = "  ".join(
        f"{name}: {value}"
        for name, value in context.items()
        if value is not None and not isinstance(value, dict | list) and name != "suggestion"
    )
    return [f"#{alert.id} {alert.kind}: {alert.message}", *([facts] if facts else [])]


_BY_KIND: dict[str, Callable[[AlertRow, Mapping[str, Any]], list[str]]] = {
    "drift": _drift,
    "spike": _spike,
    "budget": _budget,
    "retention": _retention,
}


def alert_lines(alert: AlertRow) -> list[str]:
    """Every line of the alert's detail: what happened with its figures, then for a spike its
    runs and the costliest calls, then the suggested next step."""
    context = alert.context
    lines = _BY_KIND.get(alert.kind, _other)(alert, context)
    if context.get("top_prompts"):
        lines.append("Top prompts: " + ", ".join(str(name) for name in context["top_prompts"]))
    for call in (context.get("top_calls") or [])[:SHOWN_CALLS]:
        lines.append(
            f"  call #{call.get('id')} {_hour(call.get('ts', ''))} {call.get('model', '')} "
            f"{usd(call.get('cost'))}"
        )
    if context.get("suggestion"):
        lines.append(f"Next: {context['suggestion']}")
    return lines


def alert_brief(alert: AlertRow) -> str:
    """Two lines where there is room for little: what happened, and the next step."""
    lines = alert_lines(alert)
    next_step = next((line for line in lines if line.startswith("Next: ")), None)
    return lines[0] if next_step is None else f"{lines[0]}\n{next_step}"
