"""How one prompt version reads in the Prompts pane: metadata, figures, variables, sections,
notes and the latest label moves. Sections the version marks cacheable carry the editor's ◆."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from textual.content import Content

from llmbench.tui.format import NOTHING, count, day, millis, model_label, money, one_line, percent

if TYPE_CHECKING:
    from llmbench.services.prompts.library import PromptHistory, VersionView

Part = Content | tuple[str, str] | str
CACHED_MARK = " ◆"
"""After a section marked cacheable: the same mark as the editor's section tabs."""


def _heading(text: str, mark: str = "") -> list[Part]:
    return ["\n", (text, "bold $text-accent"), (mark, "$text-accent"), "\n"]


def _figure(label: str, value: str) -> list[Part]:
    return [(f"{label} ", "dim"), value, "   "]


def _mean(value: float | None, digits: int = 0) -> str:
    return NOTHING if value is None else f"{value:,.{digits}f}"


def render_version(view: VersionView | None, history: PromptHistory | None) -> Content:
    if view is None:
        return Content("No saved version yet: press e to write the first one.")
    version, metrics = view.version, view.metrics
    parts: list[Part] = [(view.prompt_name, "bold"), f"  v{version.version}"]
    for label in view.labels:
        parts += ["  ", (f" {label} ", "reverse $success" if label == "production" else "reverse")]
    parts += [
        "\n",
        *_figure("model", model_label(version.model) if version.model else NOTHING),
        *_figure("by", version.author or NOTHING),
        *_figure("on", day(version.created_at)),
        *_figure("from", f"v{view.parent}" if view.parent else "scratch"),
        "\n",
    ]
    if version.params:
        parts += [("params ", "dim"), json.dumps(version.params, sort_keys=True), "\n"]
    if version.cacheable:
        parts += [
            ("cached ", "dim"),
            f"{', '.join(version.cacheable)}{CACHED_MARK}",
            ("  sent first, marked for the provider's prompt cache", "dim"),
            "\n",
        ]
    if version.message:
        parts += [(version.message, "italic"), "\n"]

    parts += _heading("FIGURES")
    parts += [
        *_figure("calls", count(metrics.calls)),
        *_figure("errors", percent(metrics.error_rate)),
        *_figure("cost/call", money(metrics.cost_per_call)),
        "\n",
        *_figure("tokens in", _mean(metrics.mean_prompt_tokens)),
        *_figure("out", _mean(metrics.mean_completion_tokens)),
        *_figure("p50", millis(metrics.p50_ms)),
        *_figure("p95", millis(metrics.p95_ms)),
        "\n",
        *_figure("pass rate", percent(metrics.pass_rate)),
        (f"({metrics.passed}/{metrics.checked})   ", "dim"),
        *_figure("mean grade", _mean(metrics.mean_grade, 2)),
        (f"({metrics.grades} grades)", "dim"),
        "\n",
    ]

    if version.variables:
        parts += _heading("VARIABLES")
        for variable in version.variables:
            cap = f", ≤ {variable.max_tokens} tokens" if variable.max_tokens else ""
            parts += [variable.name, (f"  {variable.kind}{cap}", "dim"), "\n"]
    if version.examples:
        shown = f"the {version.few_shot_k} most similar" if version.few_shot_k else "all"
        parts += _heading("FEW-SHOT POOL")
        parts += [f"{len(version.examples)} examples; {shown} shown per call\n"]
    for name, text in version.sections.items():
        if text.strip():
            mark = CACHED_MARK if name in version.cacheable else ""
            parts += [*_heading(name.upper(), mark), text.strip(), "\n"]

    if history is not None and history.notes:
        parts += _heading("NOTES")
        for note in history.notes:
            where = f"v{note.version}" if note.version else "prompt"
            parts += [(f"{note.kind} ({where}, {note.author or NOTHING}): ", "dim")]
            parts += [one_line(note.text, 400), "\n"]
    if history is not None and history.moves:
        parts += _heading("LABEL MOVES")
        for move in history.moves[:6]:
            origin = f"v{move.from_version}" if move.from_version else "new"
            parts += [
                (f"{day(move.moved_at)} ", "dim"),
                f"{move.label}: {origin} → v{move.to_version}",
                (f"  by {move.moved_by or NOTHING}", "dim"),
                "\n",
            ]
    return Content.assemble(*parts)
