from __future__ import annotations

import pytest

from llmbench.core.costs.pricing import DatedPrice, PriceTable, simulator_price_table
from llmbench.core.models import Example, Price, PromptVersion, Variable
from llmbench.core.prompts.fewshot import format_examples
from llmbench.core.prompts.preview import estimate_cost, placeholder, preview, preview_version
from llmbench.core.prompts.templates import Template, render
from llmbench.core.tokens import count_message_tokens, count_tokens

POOL = (
    Example("I was billed twice this month", "Refund the duplicate charge."),
    Example("How do I reset my password?", "Send the reset link."),
    Example("The app crashes when it starts", "Ask for the version and the logs."),
)
TEMPLATE = Template(
    {
        "role": "You answer tickets for {{ company }}.",
        "task": "Answer this ticket:\n{{ ticket }}",
        "examples": "Replies we liked:",
    },
    (Variable("company"), Variable("ticket", "untrusted", max_tokens=50)),
    POOL,
    1,
)
VALUES = {"company": "Acme", "ticket": "I cannot reset my password"}
MODEL = "gpt-4o-mini"


def test_the_preview_shows_what_would_be_sent_and_its_tokens() -> None:
    shown = preview(TEMPLATE, VALUES, MODEL)
    assert shown.messages == render(TEMPLATE, VALUES, lambda t: count_tokens(t, MODEL)).messages
    assert shown.section_tokens == {
        name: count_tokens(text, MODEL) for name, text in shown.sections.items()
    }
    assert list(shown.section_tokens) == ["role", "task", "examples"]
    assert shown.total_tokens == count_message_tokens(shown.messages, MODEL)
    assert shown.total_tokens > sum(shown.section_tokens.values())  # plus the chat framing
    assert (shown.encoding, shown.exact) == ("o200k_base", True)
    assert shown.missing == () and shown.error is None


def test_another_model_is_counted_with_its_encoding_or_an_approximation() -> None:
    assert preview(TEMPLATE, VALUES, "gpt-4").encoding == "cl100k_base"
    claude = preview(TEMPLATE, VALUES, "anthropic/claude-3-5-sonnet")
    assert (claude.encoding, claude.exact) == ("cl100k_base", False)


def test_dynamic_few_shot_reports_the_examples_chosen_and_the_tokens_saved() -> None:
    shown = preview(TEMPLATE, VALUES, MODEL)
    assert shown.examples == (POOL[1],)
    assert shown.pool_size == 3
    assert shown.tokens_saved == count_tokens(format_examples(POOL), MODEL) - count_tokens(
        format_examples(POOL[1:2]), MODEL
    )
    assert shown.tokens_saved > 0


def test_with_no_example_chosen_the_whole_pool_is_saved() -> None:
    shown = preview(TEMPLATE, {**VALUES, "ticket": "Bonjour"}, MODEL)
    assert shown.examples == ()
    assert shown.tokens_saved == count_tokens(format_examples(POOL), MODEL)


def test_a_static_pool_saves_nothing() -> None:
    static = Template(TEMPLATE.sections, TEMPLATE.variables, POOL, None)
    shown = preview(static, VALUES, MODEL)
    assert shown.examples == POOL and shown.tokens_saved == 0


def test_missing_variables_show_as_placeholders_and_are_listed() -> None:
    shown = preview(TEMPLATE, {}, MODEL)
    assert shown.missing == ("company", "ticket")
    assert shown.error is None
    assert shown.sections["role"] == f"You answer tickets for {placeholder('company')}."
    # An outside value's placeholder sits in its fence, as the value will.
    assert shown.sections["task"].endswith("<user_input>\n⟨ticket⟩\n</user_input>")


def test_a_syntax_error_is_reported_and_the_other_sections_still_render() -> None:
    broken = Template({**TEMPLATE.sections, "format": "Reply in {% if %}"}, TEMPLATE.variables)
    shown = preview(broken, VALUES, MODEL)
    assert shown.error is not None and shown.error.startswith("format, line 1:")
    assert list(shown.errors) == ["format"]
    assert "format" not in shown.sections
    assert shown.sections["role"] == "You answer tickets for Acme."


def test_errors_are_listed_in_section_order() -> None:
    broken = Template({"freeform": "{{ 1/0 }}", "role": "{{ x.y }}", "task": "{% for %}"})
    shown = preview(broken, {"x": "1"}, MODEL)
    assert list(shown.errors) == ["role", "task", "freeform"]
    assert shown.messages == []


def test_the_cost_of_one_call_is_estimated_from_a_price() -> None:
    price = Price(input=2.0, output=8.0)
    shown = preview(TEMPLATE, VALUES, MODEL, price=price, completion_tokens=100)
    assert shown.cost is not None
    assert shown.cost.prompt_tokens == shown.total_tokens
    assert shown.cost.input_cost == pytest.approx(shown.total_tokens * 2.0 / 1_000_000)
    assert shown.cost.completion_cost == pytest.approx(100 * 8.0 / 1_000_000)
    assert shown.cost.total == pytest.approx(shown.cost.input_cost + shown.cost.completion_cost)


def test_a_price_may_come_as_a_dated_price_or_a_table() -> None:
    price = Price(input=1.0, output=4.0)
    dated = DatedPrice(MODEL, "2024-01-01", price)
    by_price = estimate_cost(MODEL, 1000, 10, price)
    assert estimate_cost(MODEL, 1000, 10, dated) == by_price
    assert estimate_cost(MODEL, 1000, 10, PriceTable([dated])) == by_price
    assert by_price is not None and by_price.total == pytest.approx((1000 * 1 + 10 * 4) / 1e6)


def test_an_unpriced_model_has_no_cost_rather_than_zero() -> None:
    assert preview(TEMPLATE, VALUES, MODEL).cost is None
    assert preview(TEMPLATE, VALUES, MODEL, price=simulator_price_table()).cost is None


def test_a_version_previews_for_its_model_with_max_tokens_as_the_completion() -> None:
    version = PromptVersion(
        id=1,
        prompt_id=1,
        version=1,
        sections=dict(TEMPLATE.sections),
        variables=TEMPLATE.variables,
        model="llmbench/mock",
        params={"max_tokens": 200, "temperature": 0},
        examples=POOL,
        few_shot_k=1,
    )
    shown = preview_version(version, VALUES, price=simulator_price_table())
    assert shown.model == "llmbench/mock" and shown.examples == (POOL[1],)
    assert shown.cost is not None and shown.cost.completion_tokens == 200
    assert shown.cost.completion_cost == pytest.approx(200 * 0.60 / 1e6)
    given = preview_version(version, VALUES, price=simulator_price_table(), completion_tokens=5)
    assert given.cost is not None and given.cost.completion_tokens == 5
    other = preview_version(version, VALUES, model="gpt-4o", price=simulator_price_table())
    assert other.model == "gpt-4o" and other.cost is None
