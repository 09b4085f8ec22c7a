"""A few support chats of the demo's traffic as conversations with tool calls: one customer's
support-chat calls of one day become the turns of one conversation, each question answered by
a tool loop (the model calls a tool, the next call sends the tool's result back and answers),
each loop a trace whose second step hangs under its first.

Drawn from a stream of its own, after the traffic: the calls chosen keep their time, model,
tokens and cost (so every breakdown, rollup and alert is as before); only their messages (the
conversation so far), answers and thread columns change. Calls of the last days are left
alone, so the newest calls F6 opens on stay what they were."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from llmbench.demo.records import DemoClock, iso_ms

Row = dict[str, Any]

FEATURE = "support-chat"
MAX_CONVERSATIONS = 12
MAX_TURNS = 6  # calls per conversation
RECENT_DAYS = 3  # the newest calls are never made into conversations
TOOLS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("lookup_order", "order_id", ('{"status": "shipped", "carrier": "DHL", "eta_days": 2}',
                                  '{"status": "processing", "eta_days": 5}')),
    ("refund_status", "order_id", ('{"refund": "approved", "amount_eur": 42.5}',
                                   '{"refund": "pending review"}')),
    ("track_parcel", "tracking_id", ('{"last_scan": "Leipzig hub", "delivered": false}',
                                     '{"delivered": true, "signed_by": "J. Weber"}')),
)  # fmt: skip


def _own_messages(row: Row) -> list[dict[str, Any]]:
    found = json.loads(row["messages"]) if row.get("messages") else []
    return [m for m in found if isinstance(m, dict)]


def _candidates(calls: Sequence[Row], clock: DemoClock) -> list[list[Row]]:
    """One customer user's answered support-chat calls of one day, at least three of them."""
    cutoff = iso_ms(clock.now - timedelta(days=RECENT_DAYS))
    groups: dict[tuple[str, str], list[Row]] = {}
    for row in calls:
        if (
            row.get("feature") == FEATURE
            and row.get("status") == "ok"
            and row.get("attempt") == 1
            and row.get("run") is None
            and not row.get("flagged")
            and row.get("customer")
            and row["ts"] < cutoff
        ):
            groups.setdefault((str(row["user"]), row["ts"][:10]), []).append(row)
    return [group for _key, group in sorted(groups.items()) if len(group) >= 3]


def add_conversations(
    rng: random.Random, calls: Sequence[Row], clock: DemoClock, limit: int = MAX_CONVERSATIONS
) -> int:
    """Make up to `limit` conversations of `calls` (in time order: the whole month, or one slice
    of it); how many were made."""
    groups = _candidates(calls, clock)
    chosen = rng.sample(groups, min(limit, len(groups)))
    for group in chosen:
        _conversation(rng, sorted(group, key=lambda row: row["ts"])[:MAX_TURNS])
    return len(chosen)


def _conversation(rng: random.Random, turns: list[Row]) -> None:
    conversation = f"chat_{rng.getrandbits(48):012x}"
    history: list[dict[str, Any]] = []
    pending: dict[str, Any] | None = None  # the tool call the previous step made
    loop = 0
    for index, row in enumerate(turns):
        own = _own_messages(row)
        system = [m for m in own if m.get("role") == "system"]
        if not history:
            history.extend(system)
        if pending is None:
            # A new question: the model looks something up first. The question is the one the
            # next step's answer was written for (this step's own answer is replaced by the
            # tool call), so the customer asked about is the one the reply names.
            loop += 1
            answering = turns[index + 1] if index + 1 < len(turns) else row
            history.extend(m for m in _own_messages(answering) if m.get("role") == "user")
            name, argument, results = rng.choice(TOOLS)
            value = f"{'A' if argument == 'order_id' else 'JD'}-{rng.randrange(10_000, 99_999)}"
            call = {
                "id": f"call_{rng.getrandbits(64):016x}",
                "name": name,
                "arguments": json.dumps({argument: value}),
            }
            row.update(
                messages=json.dumps(history, ensure_ascii=False),
                response=None,
                tool_calls=json.dumps([call]),
                finish_reason="tool_calls",
                trace_id=f"{conversation}-run{loop}",
                parent_request_id=None,
            )
            history.append(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": call["id"],
                            "type": "function",
                            "function": {"name": name, "arguments": call["arguments"]},
                        }
                    ],
                }
            )
            pending = {"call": call, "result": rng.choice(results), "request": row["request_id"]}
        else:
            # The tool's result goes back; the model answers with text.
            history.append(
                {
                    "role": "tool",
                    "tool_call_id": pending["call"]["id"],
                    "name": pending["call"]["name"],
                    "content": pending["result"],
                }
            )
            row.update(
                messages=json.dumps(history, ensure_ascii=False),
                trace_id=f"{conversation}-run{loop}",
                parent_request_id=pending["request"],
            )
            history.append({"role": "assistant", "content": row.get("response") or ""})
            pending = None
        row["conversation_id"] = conversation
