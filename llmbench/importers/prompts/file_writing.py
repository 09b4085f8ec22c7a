"""Writing a prompt file: the same PromptDoc always gives the same bytes (fixed key order,
literal blocks for multi-line text), so files diff well in git; and a safe file name for it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import yaml

from llmbench.core.models import SECTION_NAMES
from llmbench.importers.prompts.documents import LabelDoc, PromptDoc, VersionDoc

HEADER = "# llmbench prompt file. Saved versions are immutable: add a version with a new number.\n"
# YAML reads these as line breaks inside block scalars, so text holding them is double-quoted.
_YAML_LINE_BREAKS = ("\x85", "\u2028", "\u2029")


class _Dumper(yaml.SafeDumper):
    """Indented lists, literal blocks for multi-line text, nothing folded."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style: str | None = None
    if "\n" in value:
        # PyYAML falls back to double quotes by itself when a literal block cannot hold the
        # text exactly (trailing spaces on a line, tabs, carriage returns); text of blank
        # lines only reads better as "\n\n".
        block = value.strip() and not any(char in value for char in _YAML_LINE_BREAKS)
        style = "|" if block else '"'
    elif any(char in value for char in _YAML_LINE_BREAKS):
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_text)


def ordered_sections(sections: Mapping[str, str]) -> dict[str, str]:
    """The template's own order: the known sections first, then the others by name."""
    known = [name for name in SECTION_NAMES if name in sections]
    others = sorted(name for name in sections if name not in SECTION_NAMES)
    return {name: sections[name] for name in known + others}


def _version_data(version: VersionDoc) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": version.number,
        "created_at": version.created_at or "",
        "author": version.author or "",
        "message": version.message,
        "model": version.model,
        "params": dict(version.params),
        "parent": version.parent,
        "variables": [variable.to_json() for variable in version.variables],
    }
    if version.few_shot_k is not None:
        data["few_shot_k"] = version.few_shot_k
    if version.examples:
        data["examples"] = [example.to_json() for example in version.examples]
    if version.cacheable:
        data["cacheable"] = list(version.cacheable)
    data["sections"] = ordered_sections(version.sections)
    return data


def dump_prompt(prompt: PromptDoc) -> str:
    """The file's text: fixed key order and formatting, ending in one newline."""
    data = {
        "name": prompt.name,
        "description": prompt.description,
        "tags": list(prompt.tags),
        "labels": {label.label: label.version for label in sorted(prompt.labels, key=_label_key)},
        "notes": [
            {
                "kind": note.kind,
                "version": note.version,
                "author": note.author or "",
                "created_at": note.created_at or "",
                "text": note.text,
            }
            for note in prompt.notes
        ],
        "versions": [_version_data(version) for version in prompt.versions],
    }
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1_000_000,
        indent=2,
    )
    return HEADER + body


def _label_key(label: LabelDoc) -> str:
    return label.label


_UNSAFE_IN_FILE_NAME = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$", re.IGNORECASE)


def file_name_for(name: str) -> str:
    """`<name>.yaml`, with characters that some file systems refuse replaced by '_'.
    ValueError for names that would leave the folder (separators, '.', '..')."""
    if "/" in name or "\\" in name:
        raise ValueError(f"prompt {name!r} cannot be a file name: it contains a path separator")
    if name in ("", ".", ".."):
        raise ValueError(f"prompt {name!r} cannot be a file name")
    safe = _UNSAFE_IN_FILE_NAME.sub("_", name)
    if safe.startswith("."):
        safe = "_" + safe[1:]
    if safe.endswith((" ", ".")) or _WINDOWS_RESERVED.match(safe):
        safe += "_"
    return f"{safe}.yaml"


def prompt_json(params: Mapping[str, Any]) -> str:
    """A canonical form for comparing params (so 1, 1.0 and true are told apart)."""
    return json.dumps(params, sort_keys=True, ensure_ascii=False)
