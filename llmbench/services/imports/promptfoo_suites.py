"""A promptfoo config converted into an llmbench eval suite file, as `llmbench import promptfoo`
converts it (without --run): written only once it reads back as `llmbench eval` will read it,
and never over a file this importer did not write."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class ConversionRefused(ValueError):
    """The config was not converted and nothing was written; each problem names its place."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class SuiteWritten:
    config: Path
    suite: Path
    summary: str
    omitted: tuple[str, ...]
    """What was not converted, each with its file and line."""
    approximated: tuple[str, ...]


def convert_promptfoo(
    config: Path, output: Path | None = None, model_map: Mapping[str, str] | None = None
) -> SuiteWritten:
    """Convert `config` into a suite at `output` (default: beside it, `<name>.eval.yaml`), or
    raise ConversionRefused and write nothing."""
    from llmbench.importers.eval_suite_docs import SuiteError
    from llmbench.importers.promptfoo.config import PromptfooError, convert_file
    from llmbench.importers.promptfoo.suite_writing import (
        check_suite_text,
        default_output,
        is_converted_suite,
        suite_text,
    )

    target = output or default_output(config)
    if target.exists() and not is_converted_suite(target):
        raise ConversionRefused([f"{target} exists and was not written by this importer"])
    try:
        conversion = convert_file(config, model_map)
    except PromptfooError as error:
        raise ConversionRefused([str(problem) for problem in error.problems]) from None
    text = suite_text(conversion, target)
    try:
        check_suite_text(text, target)
    except SuiteError as error:
        raise ConversionRefused(
            [f"the converted suite would not run: {problem}" for problem in error.problems]
        ) from None
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as error:
        raise ConversionRefused([f"cannot write {target}: {error.strerror}"]) from None
    return SuiteWritten(
        config=config,
        suite=target,
        summary=conversion.summary(),
        omitted=tuple(str(item) for item in conversion.omitted),
        approximated=tuple(str(item) for item in conversion.notes),
    )
