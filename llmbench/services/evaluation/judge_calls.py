"""Asking a judge model for a verdict, with the one repair retry every judge gets: a reply
that does not parse is sent back with the problem named, once; a second bad reply, or a
judge that cannot be reached, is a failure with its reason, never an exception. A judge that
cannot be reached (no key, connection refused, a provider error) is `unreachable`: the cell is
then an error, not a failed check."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from llmbench.core.evaluation.judge import JudgeParseError, repair_messages
from llmbench.gateway.engine import Gateway
from llmbench.gateway.outcomes import GatewayError

Verdict = TypeVar("Verdict")


@dataclass(frozen=True)
class JudgeFailure:
    reason: str
    unreachable: bool = False  # the judge never answered (else it answered junk twice)


async def ask_judge(
    gateway: Gateway,
    model: str,
    messages: Sequence[Mapping[str, str]],
    parse: Callable[[str], Verdict],
    *,
    params: Mapping[str, Any],
    tags: Mapping[str, str],
    run_id: int | None,
) -> Verdict | JudgeFailure:
    conversation = [dict(message) for message in messages]
    for attempt in range(2):
        try:
            reply = await gateway.complete(
                model, conversation, params=dict(params), tags=tags, run_id=run_id, route=False
            )
        except GatewayError as error:
            return JudgeFailure(f"the judge {model} failed: {error}", unreachable=True)
        try:
            return parse(reply.text)
        except JudgeParseError as error:
            if attempt:
                return JudgeFailure(f"unreadable verdict after one repair: {error}")
            conversation = repair_messages(conversation, reply.text, str(error))
    raise AssertionError("unreachable: the loop returns on its second attempt")
