"""Structured prompt templates: named sections and typed variables, rendered to chat messages.

Rendering uses Jinja2's sandbox with strict undefined variables. Values from outside the
developer's control (user input, retrieved context, conversation history) are normalised,
capped in tokens and fenced in delimiters that the value itself cannot close.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta
from jinja2.exceptions import SecurityError
from jinja2.exceptions import TemplateError as JinjaTemplateError
from jinja2.sandbox import SandboxedEnvironment

from llmbench.core.models import SECTION_NAMES, VARIABLE_KINDS, Variable, VariableKind

__all__ = ["VARIABLE_KINDS", "Template", "TemplateError", "Variable", "VariableKind"]

# Static instructions go to the system message (stable, cacheable by providers); the task and
# free-form text, which carry the per-call variables, go to the user message.
SYSTEM_SECTIONS = ("role", "format", "safety", "examples")
USER_SECTIONS = ("task", "freeform")

FENCES: dict[VariableKind, str] = {
    "untrusted": "user_input",
    "retrieved": "retrieved_context",
    "history": "conversation_history",
}
# Any "<" that starts something shaped like one of our fence tags, closed or not.
_FENCE_TAG_START = re.compile(
    r"<(?=\s*/?\s*(?:" + "|".join(FENCES.values()) + r")(?![A-Za-z0-9]))", re.IGNORECASE
)
_INVISIBLE = re.compile(
    "[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]"
    "|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
)

TokenCounter = Callable[[str], int]


class TemplateError(ValueError):
    """A template cannot be rendered; the message says where and why."""


@dataclass(frozen=True)
class Template:
    sections: Mapping[str, str]
    variables: tuple[Variable, ...] = ()

    def variable(self, name: str) -> Variable:
        for variable in self.variables:
            if variable.name == name:
                return variable
        return Variable(name)


_ENV = SandboxedEnvironment(
    undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
)


def detect_variables(sections: Mapping[str, str]) -> list[str]:
    """Names the sections use, in first-use order of the section list."""
    found: list[str] = []
    for name in _ordered(sections):
        try:
            parsed = _ENV.parse(sections[name])
        except TemplateSyntaxError as error:
            raise TemplateError(f"{name}, line {error.lineno}: {error.message}") from None
        for variable in sorted(meta.find_undeclared_variables(parsed)):
            if variable not in found:
                found.append(variable)
    return found


def normalise(text: str) -> str:
    """NFKC, then drop zero-width, bidi-control and other control characters (keep \\n and \\t)."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))


def neutralise_fences(text: str) -> str:
    """Make any fence tag inside a value inert, so the value cannot close (or open) a fence."""
    return _FENCE_TAG_START.sub("&lt;", text)


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


def fence(value: str, kind: VariableKind) -> str:
    tag = FENCES.get(kind)
    if tag is None:
        return value
    return f"<{tag}>\n{value}\n</{tag}>"


def prepare_value(variable: Variable, value: object, count: TokenCounter | None = None) -> str:
    text = value if isinstance(value, str) else str(value)
    if variable.kind == "trusted":
        return text
    text = neutralise_fences(normalise(text))
    if variable.max_tokens is not None and count is not None:
        text = cap_tokens(text, variable.max_tokens, count)
    return fence(text, variable.kind)


def _ordered(sections: Mapping[str, str]) -> list[str]:
    known = [name for name in SECTION_NAMES if name in sections]
    return known + sorted(name for name in sections if name not in SECTION_NAMES)


def render_section(name: str, text: str, values: Mapping[str, str]) -> str:
    try:
        return _ENV.from_string(text).render(values).strip()
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


def render_sections(
    template: Template, values: Mapping[str, object], count: TokenCounter | None = None
) -> dict[str, str]:
    prepared = {
        name: prepare_value(template.variable(name), value, count) for name, value in values.items()
    }
    return {
        name: render_section(name, template.sections[name], prepared)
        for name in _ordered(template.sections)
        if template.sections[name].strip()
    }


def render_messages(
    template: Template, values: Mapping[str, object], count: TokenCounter | None = None
) -> list[dict[str, str]]:
    """The chat messages to send: static sections as the system message, the rest as user."""
    rendered = render_sections(template, values, count)
    system = [rendered[name] for name in SYSTEM_SECTIONS if rendered.get(name)]
    extra = [text for name, text in rendered.items() if name not in SECTION_NAMES and text]
    user = [rendered[name] for name in USER_SECTIONS if rendered.get(name)] + extra
    messages = []
    if system:
        messages.append({"role": "system", "content": "\n\n".join(system)})
    if user:
        messages.append({"role": "user", "content": "\n\n".join(user)})
    return messages
