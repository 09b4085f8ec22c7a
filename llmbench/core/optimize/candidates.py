"""The candidates of one prompt version: each a reviewable change (a new version's text and
params, or a canary route to a cheaper model) with the saving replayed from the version's calls
in the window, projected onto a month.

Pure: `Usage` is what the store read of the version's traffic; a token counter is passed in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from llmbench.core.models import Example, PromptVersion
from llmbench.core.optimize import answers as shapes
from llmbench.core.optimize.compression import compress, static_text, tokens_saved_per_call
from llmbench.core.optimize.replay import CacheReplay, Request, monthly, replay_exact_cache

PER_MILLION = 1_000_000
Kind = Literal[
    "max_tokens", "concise", "compression", "rewrite", "cheaper_model", "caching", "exact_cache"
]
KINDS: tuple[Kind, ...] = (
    "max_tokens", "concise", "compression", "rewrite", "cheaper_model", "caching", "exact_cache",
)  # fmt: skip
CANARY_WEIGHT = 10.0  # share (of 100) a cheaper model's canary arm starts with


@dataclass(frozen=True)
class ModelScore:
    """A model's cells of this prompt in past runs: pass rate over checked cells and cost."""

    model: str
    checked: int
    passed: int
    cost_per_call: float

    @property
    def pass_rate(self) -> float:
        return self.passed / self.checked if self.checked else 0.0


@dataclass(frozen=True)
class Usage:
    """A version's answered calls in the window, on its main model."""

    version: PromptVersion
    model: str
    window_days: float
    calls: int
    cost: float
    completion_tokens: Sequence[int]
    answers: Sequence[str]
    input_price: float | None  # mean USD per million
    output_price: float | None
    cached_price: float | None
    mean_prompt_tokens: float
    example_uses: Sequence[int] = ()  # per pool example: calls that showed it
    requests: Sequence[Request] = ()
    model_scores: Sequence[ModelScore] = ()
    cache_ttl_s: float | None = None  # how long the gateway's exact cache keeps an answer


@dataclass(frozen=True)
class Candidate:
    kind: Kind
    title: str
    details: tuple[str, ...]
    saving_window: float  # USD replayed over the window's calls
    projected_monthly: float
    sections: dict[str, str] = field(default_factory=dict)  # the new version ({} for a route)
    params: dict[str, Any] = field(default_factory=dict)
    examples: tuple[Example, ...] = ()
    few_shot_k: int | None = None
    cacheable: tuple[str, ...] = ()
    model: str = ""  # the cheaper model, for a canary route
    canary_weight: float = 0.0
    hit_rate: float | None = None  # the exact cache's, replayed

    @property
    def new_version(self) -> bool:
        return bool(self.sections)

    @property
    def testable(self) -> bool:
        """An exact cache answers with answers already given: nothing to run."""
        return self.kind != "exact_cache"


def _version_candidate(
    usage: Usage, kind: Kind, title: str, details: Sequence[str], saving: float, **changes: Any
) -> Candidate:
    version = usage.version
    base: dict[str, Any] = {
        "sections": dict(version.sections),
        "params": dict(version.params),
        "examples": version.examples,
        "few_shot_k": version.few_shot_k,
        "cacheable": version.cacheable,
    }
    base.update(changes)
    return Candidate(
        kind, title, tuple(details), saving, monthly(saving, usage.window_days), **base
    )


def max_tokens_candidate(usage: Usage) -> Candidate | None:
    params = usage.version.params
    if "max_tokens" in params or "max_completion_tokens" in params:
        return None
    cap = shapes.max_tokens_cap(usage.completion_tokens)
    if cap is None:
        return None
    shape = shapes.answer_shape(usage.answers)
    stop = shapes.stop_sequences(shape)
    saved_tokens = shapes.capped_tokens(usage.completion_tokens, cap)
    saving = saved_tokens * (usage.output_price or 0.0) / PER_MILLION
    new_params = {**params, "max_tokens": cap, **({"stop": stop} if stop else {})}
    details = [f"p99 of {len(usage.completion_tokens)} answers + margin → {cap} tokens"]
    if stop:
        details.append(f"{shape} answers: stop at {stop!r}")
    return _version_candidate(
        usage, "max_tokens", f"max_tokens {cap}", details, saving, params=new_params
    )


def concise_candidate(usage: Usage) -> Candidate | None:
    """Only for classifications and extractions; the saving is the run's to show (before the
    run, none is claimed)."""
    shape = shapes.answer_shape(usage.answers)
    labels = shapes.labels_of(usage.answers)
    text = shapes.concise_format(usage.version.sections.get("format", ""), shape, labels)
    if text is None:
        return None
    sections = {**usage.version.sections, "format": text}
    params = shapes.structured_params(usage.version.params, shape, usage.answers)
    title = "label only" if shape == "label" else "JSON schema answer"
    return _version_candidate(
        usage, "concise", title, [f"format: {text.splitlines()[-1]}"], 0.0,
        sections=sections, params=params,
    )  # fmt: skip


def compression_candidate(usage: Usage, count: Callable[[str], int]) -> Candidate | None:
    version = usage.version
    found = compress(version.sections, version.examples, version.few_shot_k, usage.example_uses)
    if not found.changed(version.sections, version.examples):
        return None
    per_call = tokens_saved_per_call(version.sections, found.sections, count)
    saving = per_call * usage.calls * (usage.input_price or 0.0) / PER_MILLION
    details = (f"{per_call} prompt tokens saved per call", *found.removed)
    return _version_candidate(
        usage, "compression", f"compressed (−{per_call} tokens/call)", details, saving,
        sections=found.sections, examples=found.examples,
    )  # fmt: skip


def rewrite_candidate(
    usage: Usage, rewritten: dict[str, str], model: str, count: Callable[[str], int]
) -> Candidate | None:
    """A version whose sections a model rewrote shorter (core/optimize/rewrite.py read and
    accepted them), its saving counted as the rules' compression counts it; None when it is
    no shorter or the rules' own compression already wrote the same text."""
    version = usage.version
    per_call = tokens_saved_per_call(version.sections, rewritten, count)
    ruled = compress(version.sections, (), None, ()).sections
    if per_call <= 0 or rewritten == ruled:
        return None
    saving = per_call * usage.calls * (usage.input_price or 0.0) / PER_MILLION
    changed = [name for name in version.sections if rewritten[name] != version.sections[name]]
    details = (
        f"{per_call} prompt tokens saved per call",
        f"rewritten by {model}: {', '.join(changed)}",
    )
    return _version_candidate(
        usage, "rewrite", f"rewritten (−{per_call} tokens/call)", details, saving,
        sections=dict(rewritten),
    )  # fmt: skip


def cheaper_model_candidate(usage: Usage) -> Candidate | None:
    scores = {score.model: score for score in usage.model_scores if score.checked}
    current = scores.get(usage.model)
    if current is None or current.cost_per_call <= 0:
        return None
    held = [
        score
        for score in scores.values()
        if score.model != usage.model
        and score.pass_rate >= current.pass_rate
        and score.cost_per_call < current.cost_per_call
    ]
    if not held:
        return None
    cheapest = min(held, key=lambda score: score.cost_per_call)
    share = 1 - cheapest.cost_per_call / current.cost_per_call
    saving = usage.cost * share  # at full rollout; the canary starts at CANARY_WEIGHT
    details = (
        f"{cheapest.model} passed {cheapest.pass_rate:.0%} vs {current.pass_rate:.0%} at "
        f"{share:.0%} less per call in past runs",
        f"canary route: {CANARY_WEIGHT:.0f}% of traffic first",
    )
    return Candidate(
        "cheaper_model", f"canary to {cheapest.model}", details, saving,
        monthly(saving, usage.window_days), model=cheapest.model, canary_weight=CANARY_WEIGHT,
    )  # fmt: skip


def caching_candidate(usage: Usage, count: Callable[[str], int]) -> Candidate | None:
    """Mark every section without template code cacheable (they lead the request, the same on
    every call), saving their tokens at the cached price."""
    version = usage.version
    static = tuple(
        name
        for name, text in version.sections.items()
        if text.strip() and text == static_text({name: text})
    )
    marks = tuple(dict.fromkeys((*version.cacheable, *static)))
    if set(marks) == set(version.cacheable) or usage.cached_price is None:
        return None
    added = [name for name in marks if name not in version.cacheable]
    tokens = count("\n".join(version.sections[name] for name in added))
    discount = (usage.input_price or 0.0) - usage.cached_price
    saving = max(min(tokens, usage.mean_prompt_tokens) * usage.calls * discount / PER_MILLION, 0.0)
    return _version_candidate(
        usage, "caching", f"cache {', '.join(added)}", [f"{tokens} static tokens per call"],
        saving, cacheable=marks,
    )  # fmt: skip


def exact_cache_candidate(usage: Usage) -> Candidate | None:
    replay: CacheReplay = replay_exact_cache(usage.requests, usage.cache_ttl_s)
    if not replay.hits:
        return None
    detail = f"{replay.hits} of {replay.calls} calls repeated an earlier request"
    if usage.cache_ttl_s is not None:
        detail += f" within the cache's {usage.cache_ttl_s / 3600:g} h"
    return Candidate(
        "exact_cache", f"exact cache ({replay.hit_rate:.0%} hits)", (detail,), replay.saved,
        monthly(replay.saved, usage.window_days), hit_rate=replay.hit_rate,
    )  # fmt: skip


def candidates(usage: Usage, count: Callable[[str], int]) -> list[Candidate]:
    """Every candidate the version's usage supports, in KINDS order."""
    found = [
        max_tokens_candidate(usage),
        concise_candidate(usage),
        compression_candidate(usage, count),
        cheaper_model_candidate(usage),
        caching_candidate(usage, count),
        exact_cache_candidate(usage),
    ]
    return [candidate for candidate in found if candidate is not None]


def with_measured_saving(candidate: Candidate, saving_window: float, days: float) -> Candidate:
    """The candidate once its run measured the saving per call (saving over the window)."""
    return replace(
        candidate, saving_window=saving_window, projected_monthly=monthly(saving_window, days)
    )
