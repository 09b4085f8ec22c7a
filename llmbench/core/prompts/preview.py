"""What a draft would send: messages, tokens per section and in total, examples chosen, and
the estimated cost of one call. Made for an editor that previews on every keystroke, so it
never raises on a half-typed template: missing variables show as a visible placeholder and are
listed, and a template error is reported in a field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from llmbench.core.costs.pricing import DatedPrice, PriceTable, cost_of
from llmbench.core.models import Example, Price, PromptVersion, Usage
from llmbench.core.prompts.fences import fence
from llmbench.core.prompts.fewshot import Embed, format_examples
from llmbench.core.prompts.templates import (
    Template,
    TemplateError,
    detect_variables,
    few_shot_query,
    prepare_value,
    render_prepared,
    section_order,
    template_of,
)
from llmbench.core.tokens import count_message_tokens, count_tokens, encoding_for, is_exact
from llmbench.core.tokens import section_tokens as count_section_tokens

PriceSource = Price | DatedPrice | PriceTable


def placeholder(name: str) -> str:
    return f"⟨{name}⟩"


@dataclass(frozen=True)
class CostEstimate:
    """USD for one call: the prompt as previewed plus the expected completion."""

    prompt_tokens: int
    completion_tokens: int
    input_cost: float
    completion_cost: float

    @property
    def total(self) -> float:
        return self.input_cost + self.completion_cost


@dataclass(frozen=True)
class Preview:
    model: str
    encoding: str
    exact: bool
    """False when the model's own tokenizer is not available offline (an approximation)."""
    messages: list[dict[str, str]]
    sections: dict[str, str]
    section_tokens: dict[str, int]
    """Tokens of each section as rendered (the examples section with its chosen examples)."""
    total_tokens: int
    """Prompt tokens of the whole request, with the chat format's framing."""
    examples: tuple[Example, ...] = ()
    pool_size: int = 0
    tokens_saved: int = 0
    """Tokens of the whole example pool, formatted, minus those of the examples chosen."""
    missing: tuple[str, ...] = ()
    errors: dict[str, str] = field(default_factory=dict)
    cost: CostEstimate | None = None
    """None when the model has no price."""

    @property
    def error(self) -> str | None:
        """The first template error, in section order; None when everything rendered."""
        return next(iter(self.errors.values()), None)


def preview(
    template: Template,
    values: Mapping[str, object],
    model: str,
    *,
    embed: Embed | None = None,
    price: PriceSource | None = None,
    completion_tokens: int | None = None,
) -> Preview:
    """Render the template for `model` without raising. `completion_tokens` is the expected
    length of the answer (0 when not given) for the cost estimate."""

    def count(text: str) -> int:
        return count_tokens(text, model)

    missing, detect_errors = _missing(template, values)
    prepared = {
        name: prepare_value(template.variable(name), value, count) for name, value in values.items()
    }
    for name in missing:
        prepared[name] = fence(placeholder(name), template.variable(name).kind)
    query = few_shot_query(template, values) if template.examples else ""
    rendering = render_prepared(template, prepared, query, embed=embed, strict=False)
    total = count_message_tokens(rendering.messages, model)
    saved = 0
    if template.few_shot_k is not None and template.examples:
        saved = count(format_examples(template.examples)) - (
            count(format_examples(rendering.examples)) if rendering.examples else 0
        )
    return Preview(
        model=model,
        encoding=encoding_for(model),
        exact=is_exact(model),
        messages=rendering.messages,
        sections=rendering.sections,
        section_tokens=count_section_tokens(rendering.sections, model),
        total_tokens=total,
        examples=rendering.examples,
        pool_size=len(template.examples),
        tokens_saved=saved,
        missing=missing,
        errors=_in_section_order(template, {**detect_errors, **rendering.errors}),
        cost=estimate_cost(model, total, completion_tokens or 0, price),
    )


def preview_version(
    version: PromptVersion,
    values: Mapping[str, object],
    *,
    model: str | None = None,
    embed: Embed | None = None,
    price: PriceSource | None = None,
    completion_tokens: int | None = None,
) -> Preview:
    """Preview a saved version for its expected model (or `model`); the completion estimate is
    the version's max_tokens unless given, which makes the cost an upper bound."""
    if completion_tokens is None:
        max_tokens = version.params.get("max_tokens")
        if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens > 0:
            completion_tokens = max_tokens
    return preview(
        template_of(version),
        values,
        model or version.model,
        embed=embed,
        price=price,
        completion_tokens=completion_tokens,
    )


def estimate_cost(
    model: str, prompt_tokens: int, completion_tokens: int, price: PriceSource | None
) -> CostEstimate | None:
    unit = _unit_price(model, price)
    if unit is None:
        return None
    return CostEstimate(
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        input_cost=cost_of(Usage(prompt_tokens=prompt_tokens), unit) or 0.0,
        completion_cost=cost_of(Usage(completion_tokens=completion_tokens), unit) or 0.0,
    )


def _unit_price(model: str, price: PriceSource | None) -> Price | None:
    if isinstance(price, PriceTable):
        return price.price(model)
    if isinstance(price, DatedPrice):
        return price.price
    return price


def _missing(
    template: Template, values: Mapping[str, object]
) -> tuple[tuple[str, ...], dict[str, str]]:
    """Variables the sections use but `values` lacks, and sections that do not parse."""
    names: list[str] = []
    errors: dict[str, str] = {}
    for section in section_order(template.sections):
        try:
            used = detect_variables({section: template.sections[section]})
        except TemplateError as error:
            errors[section] = str(error)
            continue
        names.extend(name for name in used if name not in values and name not in names)
    return tuple(names), errors


def _in_section_order(template: Template, errors: Mapping[str, str]) -> dict[str, str]:
    order = section_order({**template.sections, **dict.fromkeys(errors, "")})
    return {name: errors[name] for name in order if name in errors}
