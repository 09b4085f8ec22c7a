"""Compression by a model's rewrite: the production version's sections sent to the configured
model (`[models] judge_model`, the model llmbench's own helper calls use: the built-in
`llmbench/mock` unless one is set) through the gateway, and its answer read strictly
(core/optimize/rewrite.py) into a `rewrite` candidate.

The request goes through the gateway's exact cache, so listing the candidates again does not
pay for the same rewrite twice; each call (or cache hit) is a row of the audit log like any
other, tagged task_type=optimize-rewrite."""

from __future__ import annotations

from dataclasses import dataclass, replace

from llmbench.config import Settings
from llmbench.core.optimize.candidates import KINDS, Candidate, rewrite_candidate
from llmbench.core.optimize.rewrite import read_rewrite, rewrite_messages
from llmbench.core.tokens import count_tokens
from llmbench.services.optimize.candidates import Found
from llmbench.store.db import Store

REWRITE_TAGS = {"task_type": "optimize-rewrite"}


@dataclass(frozen=True)
class Rewritten:
    """What the rewrite gave: a candidate, or why there is none."""

    candidate: Candidate | None
    model: str
    problem: str = ""


def rewrite(store: Store, settings: Settings, found: Found) -> Rewritten:
    model = settings.models.judge_model
    if not model:
        return Rewritten(None, "", "no model is configured ([models] judge_model)")
    # Imported here: the gateway (and what it loads) only when a rewrite is asked for.
    from llmbench.gateway.client import run_sync
    from llmbench.gateway.engine import Gateway
    from llmbench.gateway.outcomes import GatewayError
    from llmbench.gateway.recorder import AuditRecorder

    sections = found.version.sections
    gateway = Gateway(AuditRecorder(store), settings)
    try:
        result = run_sync(
            gateway.complete(model, rewrite_messages(sections), cache="exact", tags=REWRITE_TAGS)
        )
    except GatewayError as error:
        return Rewritten(None, model, f"the rewrite failed: {error}")
    finally:
        gateway.recorder.flush()

    def count(text: str) -> int:
        return count_tokens(text, found.usage.model)

    reading = read_rewrite(result.text, sections, count)
    if reading.sections is None:
        return Rewritten(None, model, f"{model}'s rewrite was refused: {reading.problem}")
    candidate = rewrite_candidate(found.usage, reading.sections, model, count)
    if candidate is None:
        return Rewritten(None, model, "the rewrite saves nothing the rules do not")
    return Rewritten(candidate, model)


def with_rewrite(store: Store, settings: Settings, found: Found) -> Found:
    """The prompt's candidates with the model's rewrite among them (after the rules'
    compression, in KINDS order) when it gave a usable one."""
    made = rewrite(store, settings, found).candidate
    if made is None:
        return found
    ordered = sorted([*found.candidates, made], key=lambda item: KINDS.index(item.kind))
    return replace(found, candidates=ordered)
