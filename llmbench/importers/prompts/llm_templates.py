"""simonw/llm's YAML templates as llmbench prompts.

An llm template is a YAML mapping (or a bare string, which is its prompt) with `prompt`,
`system`, `model`, `defaults` and `options`, among other keys. Its text uses Python's
`string.Template` syntax: `$name` or `${name}`, and `$$` for a literal dollar sign; `$input` is
what the user pipes in. The mapping: system → the role section, prompt → the task section,
`$input` → an untrusted variable `input`, every other name → a trusted variable (with its
default noted in the description), model → model, options → params. A template without
`$input` gets the input after its prompt (or as the whole prompt, with only a system prompt),
as llm does. Keys llmbench has no place for are reported as warnings, never dropped silently.
"""

from __future__ import annotations

import string
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode

from llmbench.core.models import Variable
from llmbench.core.prompts.templates import TemplateError, detect_variables
from llmbench.importers.file_problems import FileProblem, PromptFileError
from llmbench.importers.prompts.documents import PromptDoc, VersionDoc
from llmbench.importers.yaml_nodes import InvalidValue, NodeReader, line_of
from llmbench.store.prompts.names import prompt_name_problem

INPUT = "input"
SUPPORTED_KEYS = ("prompt", "system", "model", "defaults", "options")
# llm's other template keys (llm 0.27): features llmbench does not have, reported on import.
UNSUPPORTED_KEYS = {
    "attachments": "attachments",
    "attachment_types": "typed attachments",
    "extract": "extracting the first fenced code block",
    "extract_last": "extracting the last fenced code block",
    "schema_object": "a JSON schema for structured output",
    "fragments": "fragments",
    "system_fragments": "system fragments",
    "tools": "tools",
    "functions": "Python functions as tools",
}
# Jinja would read these as the start of a tag, an expression or a comment.
_JINJA_OPENERS = ("{{", "{%", "{#")


def parse_llm_template(node: Node, path: str, stem: str) -> PromptDoc:
    """The template in `node` (from the file `path`, named after its stem) as a one-version
    prompt; PromptFileError lists every problem, unsupported keys become warnings."""
    reader = NodeReader(path)
    warnings: list[FileProblem] = []
    if problem := prompt_name_problem(stem):
        raise PromptFileError(
            [FileProblem(path, 1, f"the file's name names the prompt: {problem}; rename it")]
        )
    if _plain_text(node):
        raise PromptFileError(
            [
                FileProblem(
                    path,
                    line_of(node),
                    "plain text, not a prompt file: an llm template is a mapping with"
                    " 'prompt:' or 'system:' (or a single quoted string)",
                )
            ]
        )
    if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:str":
        fields: dict[str, Node] = {"prompt": node}
    elif isinstance(node, MappingNode):
        try:
            fields = reader.mapping(node, "the template")
        except InvalidValue as error:
            raise PromptFileError([FileProblem(path, _line(error, node), error.message)]) from None
    else:
        raise PromptFileError(
            [
                FileProblem(
                    path,
                    line_of(node),
                    "neither an llmbench prompt file (no 'versions:') nor an llm template",
                )
            ]
        )
    for key, value in fields.items():
        if key in UNSUPPORTED_KEYS:
            warnings.append(
                FileProblem(
                    path,
                    line_of(value),
                    f"{key}: {UNSUPPORTED_KEYS[key]} is not supported by llmbench; not imported",
                )
            )
        elif key not in SUPPORTED_KEYS:
            warnings.append(
                FileProblem(path, line_of(value), f"{key}: not an llm template key; not imported")
            )
    if "prompt" not in fields and "system" not in fields:
        raise PromptFileError(
            [
                FileProblem(
                    path,
                    line_of(node),
                    "neither an llmbench prompt file (no 'versions:')"
                    " nor an llm template (no 'prompt:' or 'system:')",
                )
            ]
        )
    sections: dict[str, str] = {}
    used: list[str] = []
    for key, section in (("system", "role"), ("prompt", "task")):
        if key not in fields:
            continue
        try:
            text = reader.text(fields[key], key)
        except InvalidValue as error:
            reader.record_line(_line(error, fields[key]), error.message)
            continue
        converted, names = _convert(text, fields[key], reader, key, warnings)
        sections[section] = converted
        used += [name for name in names if name not in used]
    if INPUT not in used:
        # llm sends the input after the prompt, or as the prompt when there is only a system.
        task = sections.get("task", "")
        sections["task"] = f"{task}\n{{{{ {INPUT} }}}}" if task else f"{{{{ {INPUT} }}}}"
        used.append(INPUT)
    model = ""
    params: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    try:
        if "model" in fields:
            model = reader.text(fields["model"], "model")
    except InvalidValue as error:
        reader.record_line(_line(error, fields["model"]), error.message)
    for key in ("options", "defaults"):
        if key not in fields:
            continue
        try:
            reader.mapping(fields[key], key)
            value = reader.json_value(fields[key], key)
        except InvalidValue as error:
            reader.record_line(_line(error, fields[key]), error.message)
            continue
        if key == "options":
            params = value
        else:
            defaults = value
    if reader.problems:
        raise PromptFileError(reader.problems)
    try:
        detected = set(detect_variables(sections))
    except TemplateError as error:
        raise PromptFileError(
            [FileProblem(path, line_of(node), f"cannot convert: {error}")]
        ) from None
    for name in used:
        if name not in detected:
            raise PromptFileError(
                [FileProblem(path, line_of(node), f"${name} cannot be a variable name in llmbench")]
            )
    variables = tuple(Variable(name, "untrusted" if name == INPUT else "trusted") for name in used)
    return PromptDoc(
        name=stem,
        description=_description(path, defaults),
        versions=(
            VersionDoc(
                number=None,
                sections=sections,
                variables=variables,
                model=model,
                params=params,
                message=f"imported from the llm template {path.rsplit('/', 1)[-1]}",
                line=line_of(node),
            ),
        ),
        path=path,
        line=line_of(node),
        warnings=tuple(warnings),
    )


def _line(error: InvalidValue, node: Node) -> int:
    return line_of(error.node) if error.node is not None else line_of(node)


def _plain_text(node: Node) -> bool:
    """Lines of unquoted text, which YAML reads as one string: any text file (a README, a log,
    /etc/passwd) would otherwise pass for llm's bare-string template."""
    return (
        isinstance(node, ScalarNode)
        and node.style is None
        and node.end_mark.line > node.start_mark.line
    )


def _description(path: str, defaults: dict[str, Any]) -> str:
    text = f"simonw/llm template {path.rsplit('/', 1)[-1]}"
    if defaults:
        noted = ", ".join(f"{name} = {value!r}" for name, value in defaults.items())
        text += f"; defaults: {noted}"
    return text


def _convert(
    text: str, node: Node, reader: NodeReader, key: str, warnings: list[FileProblem]
) -> tuple[str, list[str]]:
    """`string.Template` text as Jinja text, and the names it uses in order."""
    parts: list[str] = []
    names: list[str] = []
    literal: list[str] = []
    first_content_line = line_of(node) + (1 if getattr(node, "style", None) in ("|", ">") else 0)

    def flush(before_variable: bool) -> None:
        parts.append(_jinja_literal("".join(literal), before_variable))
        literal.clear()

    position = 0
    for match in string.Template.pattern.finditer(text):
        literal.append(text[position : match.start()])
        position = match.end()
        if match.group("escaped") is not None:
            literal.append("$")
            continue
        name = match.group("named") or match.group("braced")
        if name is None:
            line = first_content_line + text.count("\n", 0, match.start())
            warnings.append(
                FileProblem(
                    reader.path,
                    line,
                    f"{key}: a '$' not followed by a name is kept as text (llm would refuse it;"
                    " write $$ for a dollar sign)",
                )
            )
            literal.append("$")
            continue
        flush(before_variable=True)
        parts.append(f"{{{{ {name} }}}}")
        if name not in names:
            names.append(name)
    literal.append(text[position:])
    flush(before_variable=False)
    return "".join(parts), names


def _jinja_literal(text: str, before_variable: bool) -> str:
    """Text Jinja prints as it is: every '{' is escaped when the text holds something Jinja
    would open a tag with (or ends in '{' right before a variable's own '{{')."""
    if any(opener in text for opener in _JINJA_OPENERS) or (before_variable and text.endswith("{")):
        return text.replace("{", "{{ '{' }}")
    return text
