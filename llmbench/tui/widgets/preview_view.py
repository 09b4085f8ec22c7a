"""How the editor's live preview reads: tokens per section and in total, the estimated cost
of one call, the few-shot examples chosen, then the messages exactly as they would be sent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content

from llmbench.tui.format import NOTHING, count, model_label, money

if TYPE_CHECKING:
    from llmbench.core.prompts.preview import Preview

Part = Content | tuple[str, str] | str


def render_preview(preview: Preview | None, problem: str | None = None) -> Content:
    parts: list[Part] = []
    if problem:
        parts += [("⚠ " + problem, "bold $text-error"), "\n\n"]
    if preview is None:
        return Content.assemble(*parts) if parts else Content("Type in a section to preview.")
    approx = "" if preview.exact else " (approximate)"
    parts += [
        ("TOKENS ", "bold $text-accent"),
        (f"{preview.encoding}{approx} for {model_label(preview.model)}", "dim"),
        "\n",
    ]
    for name, tokens in preview.section_tokens.items():
        parts += [f"{name:<10}", f"{count(tokens):>7}", "\n"]
    parts += [("total     ", "bold"), (f"{count(preview.total_tokens):>7}", "bold"), "\n"]
    if preview.cost is not None:
        cost = preview.cost
        parts += [
            ("cost/call ", "bold"),
            (f"{money(cost.total):>7}", "bold"),
            (f"  in {money(cost.input_cost)} + ≤{count(cost.completion_tokens)} out "
             f"{money(cost.completion_cost)}", "dim"),
            "\n",
        ]  # fmt: skip
    else:
        parts += [("cost/call ", "bold"), f"{NOTHING:>7}", ("  no price for this model", "dim")]
        parts += ["\n"]
    if preview.pool_size:
        parts += [
            ("few-shot  ", "bold"),
            f"{len(preview.examples)} of {preview.pool_size} examples",
            (f", {count(preview.tokens_saved)} tokens saved", "$text-success")
            if preview.tokens_saved
            else "",
            "\n",
        ]
    if preview.missing:
        parts += [("missing   ", "bold $text-warning"), ", ".join(preview.missing), "\n"]
    for section, error in preview.errors.items():
        parts += [(f"{section}: {error}", "$text-error"), "\n"]
    for message in preview.messages:
        parts += ["\n", (message["role"].upper(), "bold $text-accent"), "\n", message["content"]]
        parts += ["\n"]
    return Content.assemble(*parts)
