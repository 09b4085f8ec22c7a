"""promptfoo prompts as llmbench inline prompts: Nunjucks text, marked so that llmbench renders
it with Nunjucks' filters and promptfoo's `load` (core/prompts/nunjucks.py; a filter outside
them is refused with its file and line), `file://` text files (a .txt split on `---` lines) and
paths promptfoo takes for files (`prompts.txt`), chat-format JSON/YAML with a system and a user
message, {id, raw, label} objects. Prompt functions (.js, .py), globs and longer conversations
are listed as not converted."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import yaml
from jinja2 import TemplateSyntaxError
from yaml.nodes import MappingNode, Node

from llmbench.core.prompts.nunjucks import mark_nunjucks, unknown_filters
from llmbench.core.prompts.templates import TemplateError, detect_variables
from llmbench.importers.bounds import load_json
from llmbench.importers.file_problems import FileProblem
from llmbench.importers.promptfoo.reading import DATA_SUFFIXES, ConfigReader, first_line
from llmbench.importers.yaml_nodes import line_of, load_yaml12
from llmbench.store.prompts.names import MAX_NAME_BYTES

TEXT_PROMPT_SUFFIXES = (".txt", ".md", ".j2", ".prompt")
_PROMPT_SPLIT = re.compile(r"^-{3,}\s*$", re.MULTILINE)
# promptfoo's VALID_FILE_EXTENSIONS: a prompt naming such a file (or a path) is read from it.
_FILE_EXTENSIONS = (".cjs", ".cts", ".j2", ".js", ".json", ".jsonl", ".md", ".mjs", ".mts",
                    ".py", ".ts", ".txt", ".yml", ".yaml")  # fmt: skip
_SLUG = re.compile(r"[^a-z0-9]+")
_PROMPT_FIELD_WHY = {
    "config": "per-prompt provider config is not converted",
    "function": "runs code",
}


class PromptReading(ConfigReader):
    """Reads `prompts` into the suite's inline prompts."""

    def _prompts(self, node: Node | None, root: Node, suite_name: str) -> list[dict[str, Any]]:
        """The suite's inline prompts. Names start with the suite's (`getting-started.translate`)
        so a converted prompt never adds versions to an unrelated prompt of the same name."""
        if node is None:
            self.fail(root, "the config has no prompts")
            return []
        prompts: list[dict[str, Any]] = []
        names: set[str] = set()
        slug = _SLUG.sub("-", suite_name.lower()).strip("-") or "promptfoo"
        if isinstance(node, MappingNode):
            # {prompt or file://path: label}
            fields = self.mapping(node, "prompts") or {}
            entries = [(key, value) for key, value in fields.items()]
            items: list[tuple[Node | None, str, str, Node]] = []
            for key, value in entries:
                items.append((None, key, self._text(value, f"prompts[{key!r}]"), value))
        else:
            items = []
            for item in self._listed(node, "prompts"):
                items.append((item, "", "", item))
        for index, (item, raw, label, line_node) in enumerate(items):
            where = f"prompts[{index}]"
            for prompt in self._prompt(item, raw, label, where, line_node):
                name_hint, sections, text_note = prompt
                hint = name_hint or f"prompt-{len(prompts) + 1}"
                base_name = _prompt_name(slug, hint)
                name, counter = base_name, 2
                while name in names:
                    name = f"{base_name}-{counter}"
                    counter += 1
                try:
                    variables = detect_variables(sections)
                except TemplateError as error:
                    self.omit(
                        line_node, where, name, f"not a template llmbench can render: {error}"
                    )
                    continue
                if text_note:
                    self.note(line_node, where, name, text_note)
                names.add(name)
                entry: dict[str, Any] = {"name": name}
                if set(sections) == {"task"}:
                    entry["text"] = sections["task"]
                else:
                    entry["sections"] = sections
                if variables:
                    entry["variables"] = [{"name": v, "kind": "trusted"} for v in variables]
                prompts.append(entry)
        return prompts

    def _prompt(
        self, item: Node | None, raw: str, label: str, where: str, line_node: Node
    ) -> list[tuple[str, dict[str, str], str]]:
        """(name hint, sections, note) for each prompt an entry stands for."""
        if item is not None and isinstance(item, MappingNode):
            fields = self.mapping(item, where) or {}
            label = self._text(fields.get("label"), f"{where}.label").strip()
            for key, value in fields.items():
                if key not in ("id", "raw", "label"):
                    self.omit(value, where, key, _PROMPT_FIELD_WHY.get(key, "no place in a suite"))
            if "raw" in fields:
                raw = self._text(fields["raw"], f"{where}.raw")
            elif "id" in fields:
                raw = self._text(fields["id"], f"{where}.id")
            else:
                self.fail(item, f"{where}: a prompt object needs raw or id")
                return []
        elif item is not None:
            raw = self._text(item, where)
        if not raw.strip():
            self.fail(line_node, f"{where}: an empty prompt")
            return []
        if raw.startswith("file://"):
            return self._file_prompts(raw, label, where, line_node)
        if item is not None and not isinstance(item, MappingNode) and _names_a_file(raw):
            return self._file_prompts(f"file://{raw.strip()}", label, where, line_node)
        first = line_of(line_node) + (1 if getattr(line_node, "style", None) in ("|", ">") else 0)
        return self._text_prompt(raw, label, where, line_node, self.shown, first)

    def _text_prompt(
        self, text: str, label: str, where: str, node: Node, path: str, first_line: int
    ) -> list[tuple[str, dict[str, str], str]]:
        stripped = text.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            try:
                messages = load_json(stripped)
            except ValueError:
                messages = None
            if isinstance(messages, list):
                sections = self._chat_sections(messages, where, node, path, first_line)
                return [(label, sections, "")] if sections else []
        converted = self._nunjucks(text, where, path, first_line)
        return [] if converted is None else [(label, {"task": converted}, "")]

    def _nunjucks(self, text: str, where: str, path: str, first_line: int) -> str | None:
        """The text marked for Nunjucks rendering; None with each filter llmbench does not
        render recorded as a problem at its line."""
        try:
            unknown = unknown_filters(text)
        except TemplateSyntaxError:
            return mark_nunjucks(text)  # said when its variables are read
        for name, line in unknown:
            self.reader.problems.append(
                FileProblem(
                    path,
                    first_line + line - 1,
                    f"{where}: the Nunjucks filter {name!r} is not one llmbench renders (it has"
                    " promptfoo's load and Nunjucks' built-in filters; custom filters run"
                    " JavaScript)",
                )
            )
        return None if unknown else mark_nunjucks(text)

    def _chat_sections(
        self, messages: list[Any], where: str, node: Node, path: str, first_line: int
    ) -> dict[str, str] | None:
        """A system message and a user message as the role and task sections."""
        roles = [m.get("role") if isinstance(m, dict) else None for m in messages]
        contents = [m.get("content") if isinstance(m, dict) else None for m in messages]
        simple = roles in (["user"], ["system", "user"]) and all(
            isinstance(c, str) for c in contents
        )
        if not simple:
            shape = ", ".join(str(role) for role in roles)
            self.omit(
                node,
                where,
                f"chat prompt ({shape})",
                "only a system message and one user message convert (llmbench prompts are "
                "a system part and a user part)",
            )
            return None
        sections: dict[str, str] = {}
        for role, content in zip(roles, contents, strict=True):
            text = self._nunjucks(str(content), where, path, first_line)
            if text is None:
                return None
            sections["role" if role == "system" else "task"] = text
        return sections

    def _file_prompts(
        self, reference: str, label: str, where: str, node: Node
    ) -> list[tuple[str, dict[str, str], str]]:
        target = reference[len("file://") :]
        if any(char in target for char in "*?[") or re.search(
            r"\.(js|ts|mjs|cjs|py)(:\w+)?$", target
        ):
            why = (
                "a glob; list the files"
                if any(c in target for c in "*?[")
                else "a prompt function runs code"
            )
            self.omit(node, where, reference, why)
            return []
        path = (self.base / target).resolve() if not Path(target).is_absolute() else Path(target)
        suffix = path.suffix.lower()
        if suffix not in TEXT_PROMPT_SUFFIXES + DATA_SUFFIXES:
            self.omit(
                node,
                where,
                reference,
                f"{suffix or 'a file without suffix'} prompt files are not read",
            )
            return []
        text = self.file_text(node, where, reference, path)
        if text is None:
            return []
        stem = label or path.stem
        if suffix in DATA_SUFFIXES:
            try:
                data = load_json(text) if suffix == ".json" else load_yaml12(text)
            except (ValueError, yaml.YAMLError) as error:
                self.fail(node, f"{where}: {reference} cannot be read: {first_line(error)}")
                return []
            if isinstance(data, str):
                return self._text_prompt(data, stem, where, node, str(path), 1)
            if isinstance(data, list):
                sections = self._chat_sections(data, where, node, str(path), 1)
                return [(stem, sections, "")] if sections else []
            self.omit(node, where, reference, "neither a prompt text nor a list of chat messages")
            return []
        parts = _parts(text) if suffix == ".txt" else [(1, text.strip())]
        parts = [(line, part) for line, part in parts if part]
        prompts = []
        for number, (line, part) in enumerate(parts, start=1):
            name = stem if len(parts) == 1 else f"{stem}-{number}"
            converted = self._nunjucks(part, where, str(path), line)
            if converted is not None:
                prompts.append((name, {"task": converted}, ""))
        if not parts:
            self.fail(node, f"{where}: {reference} is empty")
        return prompts


def _prompt_name(slug: str, hint: str) -> str:
    """`<suite>.<label or file>`, made a valid prompt name (store.prompts.names): a label may
    hold anything, and a name is also a file name."""
    cleaned = "".join(
        "-" if char in "/\\" or unicodedata.category(char).startswith("C") else char
        for char in hint.replace("@", " at ")
    )
    name = f"{slug}.{cleaned.strip(' -.') or 'prompt'}"
    # Room for the `-N` that tells prompts of the same label apart.
    while len(name.encode("utf-8")) > MAX_NAME_BYTES - 8:
        name = name[:-1]
    return name.rstrip()


def _parts(text: str) -> list[tuple[int, str]]:
    """A .txt file's prompts (split on `---` lines), each with the line its text starts at."""
    parts, start = [], 0
    for separator in [*_PROMPT_SPLIT.finditer(text), None]:
        end = len(text) if separator is None else separator.start()
        chunk = text[start:end]
        lead = len(chunk) - len(chunk.lstrip())
        parts.append((text.count("\n", 0, start + lead) + 1, chunk.strip()))
        if separator is not None:
            start = separator.end()
    return parts


def _names_a_file(prompt: str) -> bool:
    """promptfoo's maybeFilePath: whether a prompt string is taken for a file's path."""
    if "\n" in prompt or any(scheme in prompt for scheme in ("portkey://", "langfuse://")):
        return False
    tokens = prompt.split(":")
    if any(token.endswith(_FILE_EXTENSIONS) for token in tokens[-2:]):
        return True
    return prompt[-3:-2] == "." or prompt[-4:-3] == "." or any(c in prompt for c in "*/\\")
