"""How numbers, times and model names read on screen. One place, so every pane agrees."""

from __future__ import annotations

SIMULATOR_PREFIX = "llmbench/"
NOTHING = "—"


def model_label(model: str) -> str:
    """The built-in offline models are simulators: say so wherever a model is named."""
    return f"{model} (simulator)" if model.startswith(SIMULATOR_PREFIX) else model


def money(usd: float | None) -> str:
    if usd is None:
        return NOTHING
    if usd == 0:
        return "$0.00"
    if abs(usd) < 1:
        return f"${usd:,.4f}"
    return f"${usd:,.2f}"


def count(value: int | None) -> str:
    return NOTHING if value is None else f"{value:,}"


def percent(share: float | None) -> str:
    """A ratio in 0..1 as a percentage."""
    return NOTHING if share is None else f"{share * 100:.1f}%"


def millis(value: float | None) -> str:
    if value is None:
        return NOTHING
    if value >= 10_000:
        return f"{value / 1000:,.1f} s"
    return f"{value:,.0f} ms"


def timestamp(iso: str | None) -> str:
    """A stored UTC timestamp ('2025-06-01T12:34:56.789Z') as 'YYYY-MM-DD HH:MM:SS'."""
    if not iso:
        return NOTHING
    return iso[:19].replace("T", " ")


def day(iso: str | None) -> str:
    return iso[:10] if iso else NOTHING


def one_line(text: str | None, width: int) -> str:
    """The text on one line, cut to `width` characters with an ellipsis."""
    if not text:
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: max(width - 1, 0)] + "…"
