"""Writing the converted suite: commented YAML that says where it came from and what did not
convert, read back as `llmbench eval` will before it is kept; and where it goes by default."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from llmbench.importers.bounds import compose_yaml
from llmbench.importers.eval_suite import parse_suite
from llmbench.importers.promptfoo.config import Conversion
from llmbench.importers.promptfoo.reading import shown_path

SUITE_SUFFIX = ".eval.yaml"
FILE_PREFIX = "file://"
_SCRIPT_TYPES = ("python", "javascript")
HEADER = "# llmbench eval suite, converted from a promptfoo config by `llmbench import promptfoo`"


def default_output(config: Path) -> Path:
    """Where the suite goes without -o: beside the config, `<config name>.eval.yaml`."""
    return config.with_name(config.stem + SUITE_SUFFIX)


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    block = "\n" in value and value.strip() and value == value.rstrip(" ") and "\t" not in value
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if block else None)


_Dumper.add_representer(str, _represent_text)


def _relative_file(value: Any, base: Path) -> Any:
    """A `file://` reference to an absolute path named relative to `base`; else as it is."""
    if not (isinstance(value, str) and value.startswith(FILE_PREFIX)):
        return value
    target = value[len(FILE_PREFIX) :]
    function = ""
    if ":" in Path(target).name:
        target, _, function = target.rpartition(":")
    if not Path(target).is_absolute():
        return value
    shown = Path(os.path.relpath(target, base)).as_posix()
    return FILE_PREFIX + shown + (f":{function}" if function else "")


def _relative_scripts(suite: dict[str, Any], base: Path) -> dict[str, Any]:
    """The suite with its code checks' and transforms' files named relative to the suite's
    folder (they are read relative to their suite), so the suite and its scripts move
    together."""

    def relative(check: dict[str, Any]) -> dict[str, Any]:
        check = dict(check)
        if "transform" in check:
            check["transform"] = _relative_file(check["transform"], base)
        if "value" in check and str(check.get("type", "")).removeprefix("not-") in _SCRIPT_TYPES:
            check["value"] = _relative_file(check.get("value"), base)
        return check

    def relative_test(test: dict[str, Any]) -> dict[str, Any]:
        test = dict(test)
        if "checks" in test:
            test["checks"] = [relative(check) for check in test["checks"]]
        if "transform" in test:
            test["transform"] = _relative_file(test["transform"], base)
        return test

    written = relative_test(suite)
    written["tests"] = [relative_test(test) for test in written["tests"]]
    return written


def suite_text(conversion: Conversion, output: Path | None = None) -> str:
    """The suite as commented YAML: where it came from, what did not convert and what only
    approximately, then the suite. Paths are shown relative to the suite's folder."""
    base = (output or conversion.source).parent.resolve()
    lines = [
        HEADER,
        f"# source: {shown_path(conversion.source, base)}",
        "# Run it with `llmbench eval FILE`; API keys come from the environment or"
        " `llmbench keys set`.",
    ]
    for source, target in conversion.mapped:
        lines.append(f"# --model-map: {source} -> {target}")
    if conversion.omitted:
        lines += ["#", f"# NOT CONVERTED ({len(conversion.omitted)}):"]
        lines += [f"#   {item.comment(base)}" for item in conversion.omitted]
    if conversion.notes:
        lines += ["#", f"# CONVERTED APPROXIMATELY ({len(conversion.notes)}):"]
        lines += [f"#   {item.comment(base)}" for item in conversion.notes]
    body = yaml.dump(
        _relative_scripts(conversion.suite, base),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    return "\n".join(line.replace("\n", " ") for line in lines) + "\n\n" + body


def check_suite_text(text: str, output: Path) -> None:
    """Read the written suite back as `llmbench eval` will; SuiteError if it would not run."""
    node = compose_yaml(text)
    parse_suite(node, output, str(output))


def is_converted_suite(path: Path) -> bool:
    """Whether path is a suite this importer wrote (so writing it again loses nothing)."""
    try:
        with path.open(encoding="utf-8") as file:
            return file.readline().rstrip("\n") == HEADER
    except (OSError, UnicodeDecodeError):
        return False
