"""What a prompt's name may be, checked wherever a prompt is created (the store itself, the
services, the TUI's dialog, prompt files, llm templates, eval suites, promptfoo conversions).

A name is also a file name (`prompts export` writes `<name>.yaml`) and the name part of a
`name@label` reference, so it is one path component that can neither leave a folder nor be
misread: no separators, not `.` or `..`, no `@`, no control or invisible characters, no spaces
at either end, and short enough for every file system once `.yaml` is added.
"""

from __future__ import annotations

import unicodedata

MAX_NAME_BYTES = 200  # UTF-8; file names stop at 255 bytes, `.yaml` included


def prompt_name_problem(name: str) -> str | None:
    """Why `name` cannot be a prompt's name, in words for the user (None: it can)."""
    if not name.strip():
        return "a prompt name must not be empty"
    if name != name.strip():
        return f"prompt name {name!r} must not start or end with spaces"
    if "/" in name or "\\" in name:
        return f"prompt name {name!r} must not contain '/' or '\\' (it becomes a file name)"
    if name in (".", ".."):
        return f"prompt name {name!r} cannot be a file name"
    if "@" in name:
        return f"prompt name {name!r} must not contain '@' (it separates name@label)"
    if any(unicodedata.category(char).startswith("C") for char in name):
        return f"prompt name {name!r} must not contain control or invisible characters"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        return f"a prompt name is at most {MAX_NAME_BYTES} bytes of UTF-8 (it becomes a file name)"
    return None
