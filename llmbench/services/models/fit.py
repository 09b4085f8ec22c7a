"""Whether a comparison's prompts fit the context windows of the models picked for it: each
picked version rendered with each case's values (as the run will render it) and counted with
the model's tokenizer (`core.tokens`: OpenAI's own encodings, cl100k_base as an approximation
for other models, which `exact` says).

A prompt fits when its tokens, chat framing included, are at most the model's context window
(litellm's max_input_tokens). Models whose window is unknown, and the built-in simulators
(no limit), are not checked. A case whose values do not render is left to the run, which
reports it as the cell's error.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from llmbench.core.prompts.templates import (
    Template,
    TemplateError,
    render_messages,
    template_of,
)
from llmbench.core.tokens import count_message_tokens, count_tokens, encoding_for, is_exact
from llmbench.store import datasets as datasets_repo
from llmbench.store.db import Store
from llmbench.store.prompts import versions as versions_repo


@dataclass(frozen=True)
class FitProblem:
    """Cases of one version whose prompt is longer than one model's context window."""

    model: str
    version: str
    """"support-reply@3"."""
    context_window: int
    too_long: int
    cases: int
    longest: int
    """Tokens of the longest prompt."""
    exact: bool
    """Counted with the model's own tokenizer (False: an approximation)."""

    def sentence(self) -> str:
        counted = "" if self.exact else " (approximate count)"
        return (
            f"{self.model}: {self.too_long} of {self.cases} cases of {self.version} would not fit"
            f" its {self.context_window:,}-token context (longest {self.longest:,} tokens"
            f"{counted})"
        )


def prompt_fit(
    store: Store,
    *,
    version_ids: Sequence[int],
    models: Sequence[str],
    context_windows: Mapping[str, int | None],
    dataset_id: int | None = None,
    adhoc: Mapping[str, str] | None = None,
) -> list[FitProblem]:
    """Every (model, version) with cases that would not fit, in the picks' order."""
    checked = [model for model in models if context_windows.get(model)]
    if not checked or not version_ids:
        return []
    db = store.read()
    if adhoc is not None:
        case_values: list[Mapping[str, str]] = [adhoc] if adhoc else []
    elif dataset_id is not None:
        case_values = [case.vars for case in datasets_repo.list_cases(db, dataset_id)]
    else:
        return []
    # Models sharing a tokenizer share the counting: render and count once per encoding.
    by_encoding: dict[str, list[str]] = defaultdict(list)
    for model in checked:
        by_encoding[encoding_for(model)].append(model)
    problems = []
    for version_id in version_ids:
        version = versions_repo.get_version(db, version_id)
        if version is None:
            continue
        prompt = versions_repo.get_prompt_by_id(db, version.prompt_id)
        label = f"{prompt.name if prompt else '?'}@{version.version}"
        template = template_of(version)
        for group in by_encoding.values():
            counts = _prompt_tokens(template, case_values, group[0])
            for model in group:
                window = context_windows[model] or 0
                too_long = [tokens for tokens in counts if tokens > window]
                if too_long:
                    problems.append(
                        FitProblem(
                            model=model,
                            version=label,
                            context_window=window,
                            too_long=len(too_long),
                            cases=len(case_values),
                            longest=max(too_long),
                            exact=is_exact(model),
                        )
                    )
    return problems


def _prompt_tokens(
    template: Template, case_values: Sequence[Mapping[str, str]], model: str
) -> list[int]:
    counts = []
    for values in case_values:
        try:
            messages = render_messages(
                template, values, count=lambda text: count_tokens(text, model)
            )
        except TemplateError:
            continue
        counts.append(count_message_tokens(messages, model))
    return counts
