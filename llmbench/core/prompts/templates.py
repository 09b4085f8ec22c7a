"""Structured prompt templates: named sections and typed variables, rendered to chat messages.

Rendering uses Jinja2's sandbox with strict undefined variables. Values from outside the
developer's control (user input, retrieved context, conversation history) are normalised,
capped in tokens and fenced in delimiters that the value itself cannot close (core/fences.py).
A plain `{{ name }}` puts the whole fenced value in the text; filters that take the fenced text
apart (slicing, `replace`) are the template author's own doing.

A version may carry a pool of few-shot examples. With `few_shot_k` set, the examples section
shows at most that many, the most similar to the call's input (core/fewshot.py), and none at all
(not even the section's own text, which introduces them) when no example is similar; without it
the whole pool is shown in its order.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta
from jinja2 import Template as JinjaTemplate
from jinja2.exceptions import SecurityError
from jinja2.exceptions import TemplateError as JinjaTemplateError
from jinja2.sandbox import SandboxedEnvironment

from llmbench.core.models import (
    SECTION_NAMES,
    VARIABLE_KINDS,
    Example,
    PromptVersion,
    Variable,
    VariableKind,
)
from llmbench.core.prompts.caching import marked_messages, ordered_messages
from llmbench.core.prompts.fences import FENCES, fence, neutralise_fences, normalise
from llmbench.core.prompts.fewshot import Embed, format_examples, select_examples
from llmbench.core.prompts.image_values import ImageValueError, image_url, placeholder, with_images
from llmbench.core.prompts.nunjucks import finalize, is_nunjucks, nunjucks_filters

__all__ = [
    "FENCES",
    "VARIABLE_KINDS",
    "Rendering",
    "Template",
    "TemplateError",
    "Variable",
    "VariableKind",
    "cap_tokens",
    "detect_variables",
    "fence",
    "few_shot_query",
    "neutralise_fences",
    "normalise",
    "prepare_value",
    "render",
    "render_messages",
    "render_prepared",
    "render_sections",
    "section_order",
    "template_of",
]

# Static instructions go to the system message (stable, cacheable by providers); the task and
# free-form text, which carry the per-call variables, go to the user message.
SYSTEM_SECTIONS = ("role", "format", "safety", "examples")
USER_SECTIONS = ("task", "freeform")
EXAMPLES_SECTION = "examples"

# Arithmetic a template may do before it stops being a template: the preview renders on every
# keystroke, and "{{ 9**99999999 }}" or "{{ 'a' * 10**9 }}" would freeze it. (Loops that build
# ever longer strings are not bounded: a template is its own author's code.)
MAX_INTEGER_BITS = 100_000
MAX_REPEAT_LENGTH = 1_000_000

TokenCounter = Callable[[str], int]


class TemplateError(ValueError):
    """A template cannot be rendered; the message says where and why."""


@dataclass(frozen=True)
class Template:
    sections: Mapping[str, str]
    variables: tuple[Variable, ...] = ()
    examples: tuple[Example, ...] = ()
    few_shot_k: int | None = None
    """With a pool: show at most this many examples, the most similar to the input."""
    cacheable: tuple[str, ...] = ()
    """Sections sent first, marked for the provider's prompt cache (core/prompts/caching)."""

    def variable(self, name: str) -> Variable:
        for variable in self.variables:
            if variable.name == name:
                return variable
        return Variable(name)


def template_of(version: PromptVersion) -> Template:
    return Template(
        version.sections, version.variables, version.examples, version.few_shot_k,
        version.cacheable,
    )  # fmt: skip


@dataclass(frozen=True)
class Rendering:
    sections: dict[str, str]
    """Each non-empty section as rendered, the examples section with its chosen examples."""
    messages: list[dict[str, str]]
    examples: tuple[Example, ...]
    """The examples of the pool shown, in the order shown."""
    errors: dict[str, str] = field(default_factory=dict)
    """Section -> error, from a lenient render only (a strict one raises the first)."""


class _Sandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "**":
            _check_power(left, right)
            return operator.pow(left, right)
        _check_product(left, right)
        return operator.mul(left, right)


def _check_power(base: Any, exponent: Any) -> None:
    if (
        isinstance(base, int)
        and isinstance(exponent, int)
        and exponent > 0
        and max(abs(base).bit_length(), 1) * exponent > MAX_INTEGER_BITS
    ):
        raise SecurityError(f"a power of more than {MAX_INTEGER_BITS:,} bits")


def _check_product(left: Any, right: Any) -> None:
    if (
        isinstance(left, int)
        and isinstance(right, int)
        and left.bit_length() + right.bit_length() > MAX_INTEGER_BITS
    ):
        raise SecurityError(f"a product of more than {MAX_INTEGER_BITS:,} bits")
    for sequence, times in ((left, right), (right, left)):
        if (
            isinstance(sequence, str | list | tuple)
            and isinstance(times, int)
            and len(sequence) * times > MAX_REPEAT_LENGTH
        ):
            raise SecurityError(f"a repetition longer than {MAX_REPEAT_LENGTH:,} items")


_ENV = _Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


class _NunjucksSandbox(_Sandbox):
    def getattr(self, obj: Any, attribute: str) -> Any:
        # JavaScript looks a key up before anything else (`config.items` is the key), and
        # strings and arrays have a length.
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        if attribute == "length" and isinstance(obj, str | list | tuple):
            return len(obj)
        return super().getattr(obj, attribute)


# Templates marked as Nunjucks (promptfoo's prompts): Nunjucks' filters, JavaScript's way of
# writing values and of looking keys up (core/prompts/nunjucks.py).
_NUNJUCKS_ENV = _NunjucksSandbox(
    undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False, finalize=finalize
)
_NUNJUCKS_ENV.filters = nunjucks_filters()


def environment_for(text: str) -> SandboxedEnvironment:
    """The environment a template renders in: Nunjucks' for a marked one, else llmbench's."""
    return _NUNJUCKS_ENV if is_nunjucks(text) else _ENV


def detect_variables(sections: Mapping[str, str]) -> list[str]:
    """Names the sections use, in first-use order of the section list."""
    found: list[str] = []
    for name in section_order(sections):
        try:
            parsed = environment_for(sections[name]).parse(sections[name])
            undeclared = meta.find_undeclared_variables(parsed)  # compiles: unknown filters
        except TemplateSyntaxError as error:
            raise TemplateError(f"{name}, line {error.lineno}: {error.message}") from None
        except Exception as error:  # e.g. RecursionError on "((((((..."
            raise TemplateError(f"{name}: {type(error).__name__}: {error}") from None
        for variable in sorted(undeclared):
            if variable not in found:
                found.append(variable)
    return found


def cap_tokens(text: str, max_tokens: int, count: TokenCounter) -> str:
    """The longest prefix of text within max_tokens (binary search on characters)."""
    if count(text) <= max_tokens:
        return text
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if count(text[:middle]) <= max_tokens:
            low = middle
        else:
            high = middle - 1
    return text[:low] + " […truncated]"


def prepare_value(variable: Variable, value: object, count: TokenCounter | None = None) -> str:
    if variable.kind == "image":  # sent as an image part; the text only marks where
        return placeholder(variable.name)
    text = value if isinstance(value, str) else str(value)
    if variable.kind == "trusted":
        return text
    text = neutralise_fences(normalise(text))
    if variable.max_tokens is not None and count is not None:
        # Again after the cut: "<user_inputs>" cut to "<user_input" + " […truncated]" is a tag.
        text = neutralise_fences(cap_tokens(text, variable.max_tokens, count))
    return fence(text, variable.kind)


def few_shot_query(template: Template, values: Mapping[str, object]) -> str:
    """The text examples are compared with: the values from outside (user input, retrieved
    context, history), or every value when there are none, normalised, by variable name."""
    outside = {
        name: value for name, value in values.items() if template.variable(name).kind != "trusted"
    }
    chosen = outside or values
    return "\n".join(normalise(_text(chosen[name])) for name in sorted(chosen))


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def section_order(sections: Mapping[str, str]) -> list[str]:
    """The standard sections in their order, then any others by name."""
    known = [name for name in SECTION_NAMES if name in sections]
    return known + sorted(name for name in sections if name not in SECTION_NAMES)


@functools.lru_cache(maxsize=512)
def _compiled(text: str) -> JinjaTemplate:
    """Compiling costs a millisecond or so, rendering a few microseconds: a run renders the
    same section for every case. Errors are not cached; they raise again on the next use."""
    return environment_for(text).from_string(text)


def render_section(name: str, text: str, values: Mapping[str, str]) -> str:
    try:
        return _compiled(text).render(values).strip()
    except UndefinedError as error:
        raise TemplateError(f"{name}: {error.message} (give it a value)") from None
    except TemplateSyntaxError as error:
        raise TemplateError(f"{name}, line {error.lineno}: {error.message}") from None
    except SecurityError as error:
        raise TemplateError(f"{name}: not allowed in a template: {error}") from None
    except JinjaTemplateError as error:
        raise TemplateError(f"{name}: {error}") from None
    except Exception as error:  # a filter or test raised on odd input: still a template error
        raise TemplateError(f"{name}: {type(error).__name__}: {error}") from None


def chosen_examples(
    template: Template, query: str, *, embed: Embed | None = None
) -> tuple[Example, ...]:
    if template.few_shot_k is None:
        return template.examples
    return tuple(select_examples(template.examples, query, template.few_shot_k, embed=embed))


def render_prepared(
    template: Template,
    prepared: Mapping[str, str],
    query: str,
    *,
    embed: Embed | None = None,
    strict: bool = True,
) -> Rendering:
    """Render with values already prepared (fenced, capped). Strict: raise the first error;
    otherwise record each section's error and render the others."""
    shown = chosen_examples(template, query, embed=embed)
    names = section_order(template.sections)
    if template.examples and EXAMPLES_SECTION not in names:
        names = section_order({**template.sections, EXAMPLES_SECTION: ""})
    sections: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name in names:
        text = template.sections.get(name, "")
        try:
            rendered = render_section(name, text, prepared) if text.strip() else ""
        except TemplateError as error:
            if strict:
                raise
            errors[name] = str(error)
            continue
        if name == EXAMPLES_SECTION and template.examples:
            if not shown:
                continue  # the section introduces examples, and none are worth showing
            rendered = "\n\n".join(part for part in (rendered, format_examples(shown)) if part)
        if rendered:
            sections[name] = rendered
    if EXAMPLES_SECTION not in sections:
        shown = ()
    messages = ordered_messages(sections, template.cacheable) if template.cacheable else None
    return Rendering(sections, messages or _messages(sections), shown, errors)


def render(
    template: Template,
    values: Mapping[str, object],
    count: TokenCounter | None = None,
    *,
    embed: Embed | None = None,
) -> Rendering:
    """Sections, messages and chosen examples; raises TemplateError on the first problem."""
    prepared = {
        name: prepare_value(template.variable(name), value, count) for name, value in values.items()
    }
    query = few_shot_query(template, values) if template.examples else ""
    return render_prepared(template, prepared, query, embed=embed)


def render_sections(
    template: Template,
    values: Mapping[str, object],
    count: TokenCounter | None = None,
    *,
    embed: Embed | None = None,
) -> dict[str, str]:
    return render(template, values, count, embed=embed).sections


def render_messages(
    template: Template,
    values: Mapping[str, object],
    count: TokenCounter | None = None,
    *,
    embed: Embed | None = None,
) -> list[dict[str, Any]]:
    """The chat messages to send: static sections as the system message, the rest as user;
    sections marked cacheable lead, in a system message marked for the provider's cache."""
    rendering = render(template, values, count, embed=embed)
    if template.cacheable:
        messages = marked_messages(rendering.sections, template.cacheable)
    else:
        messages = rendering.messages
    images = [v.name for v in template.variables if v.kind == "image" and v.name in values]
    if not images:
        return messages
    try:
        return with_images(messages, {name: image_url(values[name], name) for name in images})
    except ImageValueError as error:
        raise TemplateError(str(error)) from None


def _messages(rendered: Mapping[str, str]) -> list[dict[str, str]]:
    system = [rendered[name] for name in SYSTEM_SECTIONS if rendered.get(name)]
    extra = [text for name, text in rendered.items() if name not in SECTION_NAMES and text]
    user = [rendered[name] for name in USER_SECTIONS if rendered.get(name)] + extra
    messages = []
    if system:
        messages.append({"role": "system", "content": "\n\n".join(system)})
    if user:
        messages.append({"role": "user", "content": "\n\n".join(user)})
    return messages
