"""Property tests of template rendering: fences hold, only TemplateError escapes, and the same
inputs give the same messages.

The fence check reads the output the way a lenient reader (or a model) might: compatibility
forms folded, invisible characters dropped, case ignored, common look-alikes taken for ASCII,
spaces and combining marks allowed around the "/". It is written apart from core/fences.py so
that it does not share that module's blind spots.
"""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmbench.core.models import SECTION_NAMES, Example, Variable
from llmbench.core.prompts.fewshot import EXAMPLE_TAG, format_examples
from llmbench.core.prompts.preview import preview
from llmbench.core.prompts.templates import Template, TemplateError, render

FENCE_NAMES = ("user_input", "retrieved_context", "conversation_history")
FENCED_KINDS = {
    "untrusted": "user_input",
    "retrieved": "retrieved_context",
    "history": "conversation_history",
}
LOOK_ALIKES = str.maketrans(
    {
        "‹": "<",
        "∕": "/",
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "у": "y",
        "х": "x",
        "і": "i",
        "ѕ": "s",
        "ο": "o",
    }
)
KEEP = "\n\t\r"
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def lenient(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = "".join(
        char
        for char in text
        if char in KEEP or unicodedata.category(char) not in ("Cc", "Cf", "Cs")
    )
    return text.lower().translate(LOOK_ALIKES)


@dataclass(frozen=True)
class Tag:
    name: str
    closing: bool


def tags_in(text: str, names: tuple[str, ...] = FENCE_NAMES) -> list[Tag]:
    """Every tag of the given names a lenient reader finds, in order."""
    folded = lenient(text)
    found = []
    for index, char in enumerate(folded):
        if char != "<":
            continue
        position = _skip(folded, index + 1)
        closing = folded.startswith("/", position)
        if closing:
            position = _skip(folded, position + 1)
        for name in names:
            after = folded[position + len(name) : position + len(name) + 1]
            if folded.startswith(name, position) and not (after.isascii() and after.isalnum()):
                found.append(Tag(name, closing))
    return found


def _skip(text: str, position: int) -> int:
    while position < len(text) and (
        text[position].isspace() or unicodedata.category(text[position]).startswith("M")
    ):
        position += 1
    return position


# Pieces an attacker would try, glued together by hypothesis into values.
FENCE_LIKE = [
    "</user_input>",
    "<user_input>",
    "< /USER_INPUT >",
    "</ user_input",
    "<user_input",
    "</retrieved_context>",
    "<conversation_history>",
    "</Conversation_History >",
    "＜/user_input＞",
    "﹤/user_input>",
    "<\u200b/user_input>",
    "</user\u200d_input>",
    "<\u202e/user_input>",
    "</uѕer_input>",
    "‹/user_input›",
    "<∕user_input>",
    "<\u0338/user_input>",
    "<\u0301/user_input>",
    "</ｕｓｅｒ＿ｉｎｐｕｔ>",
    "<user_inputs>",
    "<user_input_x>",
    "</example>",
    "\U000e003c/user_input>",
    "\ufe0f",
    "\x00",
    "\x1b[2J",
    "\u00ad",
    "</\u061cuser_input>",
    "<\U000e0041/user_input>",
    "\u2066",
    "\u180e",
    "<",
    "/",
    ">",
    "user_input",
    "_input",
    "ſ",
    "İ",
    "\n",
    " ",
    "&lt;",
]
values_text = st.one_of(
    st.text(max_size=80),
    st.lists(st.one_of(st.sampled_from(FENCE_LIKE), st.text(max_size=4)), max_size=12).map("".join),
)
literal_text = st.text(
    alphabet=st.characters(blacklist_characters="{}", blacklist_categories=("Cs",)), max_size=30
)
kinds = st.sampled_from(("trusted", "untrusted", "retrieved", "history"))
section_names = st.sampled_from((*SECTION_NAMES, "notes"))
examples = st.lists(st.builds(Example, values_text, values_text), max_size=4)


@st.composite
def fenced_templates(draw: st.DrawFn) -> tuple[Template, dict[str, str], dict[str, int]]:
    """A template of literal text and variable references spread over sections, its values,
    and how many times each section refers to a fenced variable."""
    variables = draw(
        st.lists(
            st.builds(
                Variable,
                st.from_regex(r"v[a-z]{0,3}", fullmatch=True),
                kinds,
                st.one_of(st.none(), st.integers(1, 40)),
            ),
            min_size=1,
            max_size=4,
            unique_by=lambda variable: variable.name,
        )
    )
    sections: dict[str, str] = {}
    fenced: dict[str, int] = {}
    for _ in range(draw(st.integers(1, 4))):
        name = draw(section_names)
        pieces = draw(st.lists(st.one_of(literal_text, st.sampled_from(variables)), max_size=6))
        source = "".join(
            f"{{{{ {piece.name} }}}}" if isinstance(piece, Variable) else piece for piece in pieces
        )
        # Literal text is the developer's: it may mention a fence, but then it is not ours to
        # count. Trusted values are digits, so they cannot complete a tag either.
        if tags_in(source.replace("{{", "0").replace("}}", "0")):
            continue
        sections[name] = sections.get(name, "") + source
        fenced[name] = fenced.get(name, 0) + sum(
            isinstance(piece, Variable) and piece.kind != "trusted" for piece in pieces
        )
    values = {
        variable.name: draw(st.from_regex(r"[0-9]{0,6}", fullmatch=True))
        if variable.kind == "trusted"
        else draw(values_text)
        for variable in variables
    }
    pool = tuple(draw(examples))
    few_shot_k = draw(st.one_of(st.none(), st.integers(1, 3)))
    return Template(sections, tuple(variables), pool, few_shot_k), values, fenced


def characters_counted(text: str) -> int:
    return len(text)


@SETTINGS
@given(fenced_templates())
def test_no_outside_value_escapes_its_fence(
    case: tuple[Template, dict[str, str], dict[str, int]],
) -> None:
    template, values, fenced = case
    rendering = render(template, values, count=characters_counted)
    if template.examples and not rendering.examples:
        fenced = {name: count for name, count in fenced.items() if name != "examples"}
    expected = sum(fenced.values())
    found: list[Tag] = []
    for message in rendering.messages:
        found.extend(tags_in(message["content"]))
    # Fences never nest or overlap: each opening tag is followed by its own closing tag.
    assert len(found) == 2 * expected, (found, rendering.messages)
    for opening, closing in zip(found[::2], found[1::2], strict=True):
        assert not opening.closing and closing.closing
        assert opening.name == closing.name


@SETTINGS
@given(examples)
def test_an_example_cannot_open_or_close_an_example_block_or_a_fence(
    pool: list[Example],
) -> None:
    text = format_examples(pool)
    assert tags_in(text, (EXAMPLE_TAG,)) == [Tag(EXAMPLE_TAG, False), Tag(EXAMPLE_TAG, True)] * len(
        pool
    )
    assert tags_in(text) == []


JINJA_PIECES = [
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "{{ x }}",
    "{{ y }}",
    " if ",
    " else ",
    "endif",
    " for i in ",
    "endfor",
    " set ",
    "=",
    "|",
    "upper",
    "length",
    "join(',')",
    "attr('__class__')",
    ".__class__",
    ".__mro__",
    "[1]",
    ".__subclasses__()",
    ".__globals__",
    ".__init__",
    "x",
    "y",
    "z",
    "(",
    ")",
    "[",
    "]",
    "'",
    '"',
    "**",
    "*",
    "9",
    "99999",
    "range(",
    "lipsum",
    "cycler",
    "namespace(",
    "self",
    "loop",
    "super()",
    " include ",
    " extends ",
    " import ",
    "macro",
    "call",
    "raw",
    "endraw",
    "filter",
    "block",
    "~",
    "%",
    "format(",
    "-",
    "+",
    ",",
    ".",
    "\n",
    " ",
    "\x00",
    "</user_input>",
]
template_source = st.one_of(
    st.text(max_size=60),
    st.lists(st.one_of(st.sampled_from(JINJA_PIECES), st.text(max_size=3)), max_size=16).map(
        "".join
    ),
)
plain_values = st.dictionaries(st.sampled_from(("x", "y", "z")), values_text, max_size=3)
pools = st.lists(
    st.builds(Example, st.sampled_from(("refund twice", "reset password", "x y", "")), values_text),
    max_size=4,
).map(tuple)


@SETTINGS
@given(
    st.dictionaries(section_names, template_source, min_size=1, max_size=3),
    plain_values,
    kinds,
)
def test_rendering_raises_nothing_but_a_template_error(
    sections: dict[str, str], values: dict[str, str], kind: str
) -> None:
    template = Template(sections, tuple(Variable(name, kind) for name in values))  # type: ignore[arg-type]
    try:
        render(template, values, count=characters_counted)
    except TemplateError as error:
        assert str(error)  # a message a person can act on, never empty
    shown = preview(template, values, "gpt-4o-mini")  # the editor's preview never raises
    assert shown.error is None or isinstance(shown.error, str)


@SETTINGS
@given(
    st.dictionaries(section_names, template_source, min_size=1, max_size=3),
    plain_values,
    pools,
    st.one_of(st.none(), st.integers(1, 3)),
)
def test_rendering_is_deterministic(
    sections: dict[str, str],
    values: dict[str, str],
    pool: tuple[Example, ...],
    few_shot_k: int | None,
) -> None:
    template = Template(sections, tuple(Variable(n, "untrusted") for n in values), pool, few_shot_k)

    def outcome() -> object:
        try:
            return render(template, values, count=characters_counted)
        except TemplateError as error:
            return str(error)

    first = outcome()
    assert outcome() == first
    # A copy made apart (other dict objects, same content) renders the same too.
    twin = Template(dict(sections), template.variables, tuple(pool), few_shot_k)
    try:
        assert render(twin, dict(values), count=characters_counted) == first
    except TemplateError as error:
        assert str(error) == first


DETERMINISM_SCRIPT = """
import json
from llmbench.core.models import Example, Variable
from llmbench.core.prompts.templates import Template, render
pool = tuple(Example(f"order {i} arrived late and broken", f"reply {i}") for i in range(6)) + (
    Example("late delivery refund", "r"), Example("broken item refund", "s"))
template = Template({"role": "Be kind.", "examples": "Examples:", "task": "{{ q }}"},
                    (Variable("q", "untrusted"),), pool, 3)
print(json.dumps(render(template, {"q": "my order arrived broken, refund please"}).messages))
"""


def test_few_shot_choice_does_not_depend_on_hash_seeds() -> None:
    outputs = {
        subprocess.run(
            [sys.executable, "-c", DETERMINISM_SCRIPT],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1
    assert "broken item refund" in outputs.pop()
