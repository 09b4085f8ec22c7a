"""Did the spans `llmbench export otel` sent reach Arize Phoenix, and what did Phoenix make of
them? Run by scripts/interop_phoenix.sh once the export has finished; prints a JSON verdict and
exits 0 when every check passed, 1 when one failed.

The expected values come from `llmbench logs export` of the same database (the calls as
recorded, one JSON line each); what Phoenix holds is read through its own APIs only: the REST
API's `GET /v1/projects/{name}/spans` (every span with its attributes, paged by cursor) and
GraphQL (`/graphql`: the project's span, trace and session counts and token sums, the figures
its UI shows). Standard library only, so it runs with any Python 3.11.

Phoenix (since its OTel GenAI conversion, `phoenix/trace/gen_ai/conversion.py`) adds the
OpenInference attributes its UI reads (`openinference.span.kind`, `llm.model_name`,
`llm.token_count.*`, `session.id`) from the `gen_ai.*` ones at ingestion; the checks below say
for every span whether it did.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

Row = dict[str, Any]
Span = dict[str, Any]
_ANSWERED = ("ok", "cache_hit")  # as core/audit/genai_spans.py: answered calls have OK status


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.load(response)


def _graphql(base: str, query: str) -> Any:
    request = urllib.request.Request(
        f"{base}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.load(response)
    if body.get("errors"):
        raise RuntimeError(f"GraphQL errors: {body['errors']}")
    return body["data"]


def project_figures(base: str, project: str) -> dict[str, Any] | None:
    """The project's figures as Phoenix's UI shows them, or None before its first span."""
    data = _graphql(
        base,
        "{ projects { edges { node { name recordCount traceCount sessionCount"
        " tokenCountPrompt tokenCountCompletion tokenCountTotal"
        " costSummary { total { cost } }"
        " sessions(first: 1000) { edges { node { sessionId numTraces"
        " tokenUsage { prompt completion } } } } } } } }",
    )
    for edge in data["projects"]["edges"]:
        if edge["node"]["name"] == project:
            return edge["node"]  # type: ignore[no-any-return]
    return None


def wait_for_ingestion(
    base: str, project: str, expected: int, timeout_s: float, stall_s: float
) -> tuple[int, float]:
    """Phoenix takes OTLP requests at once and writes their spans later in batches: wait until
    the project holds `expected` spans, or its count has not moved for `stall_s`."""
    started = last_change = time.monotonic()
    count = -1
    while True:
        figures = project_figures(base, project)
        now_count = figures["recordCount"] if figures else 0
        now = time.monotonic()
        if now_count != count:
            count, last_change = now_count, now
        if count >= expected or now - last_change > stall_s or now - started > timeout_s:
            return count, now - started
        time.sleep(1.0)


def all_spans(base: str, project: str) -> Iterator[Span]:
    cursor: str | None = None
    while True:
        query = {"limit": "1000", **({"cursor": cursor} if cursor else {})}
        page = _get(
            f"{base}/v1/projects/{urllib.parse.quote(project)}/spans?"
            + urllib.parse.urlencode(query)
        )
        yield from page["data"]
        cursor = page.get("next_cursor")
        if not cursor:
            return


def _bare(model: str | None, provider: str | None) -> str | None:
    if model and provider and provider != "cache" and model.startswith(f"{provider}/"):
        return model[len(provider) + 1 :]
    return model


def _seconds(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def check_example(row: Row, span: Span) -> dict[str, Any]:
    """One answered call against its span: our gen_ai.* and llmbench.* attributes, and the
    OpenInference fields Phoenix derived from them."""
    attrs = span["attributes"]
    model = _bare(row.get("model_requested") or row["model"], row.get("provider"))
    duration_ms = (_seconds(span["end_time"]) - _seconds(span["start_time"])) * 1000
    expected = {
        "name": f"chat {model}",
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": row["prompt_tokens"],
        "gen_ai.usage.output_tokens": row["completion_tokens"],
        "llmbench.request_id": row["request_id"],
        "llmbench.tag.feature": row.get("feature"),
        "llm.model_name": model,
        "llm.token_count.prompt": row["prompt_tokens"],
        "llm.token_count.completion": row["completion_tokens"],
        "llm.token_count.total": row["prompt_tokens"] + row["completion_tokens"],
        "span_kind": "LLM",
    }
    got = {key: span[key] if key in ("name", "span_kind") else attrs.get(key) for key in expected}
    mismatched = {k: {"expected": v, "got": got[k]} for k, v in expected.items() if got[k] != v}
    if abs(float(attrs.get("llmbench.cost_usd", -1)) - float(row["cost"])) > 1e-12:
        mismatched["llmbench.cost_usd"] = {
            "expected": row["cost"],
            "got": attrs.get("llmbench.cost_usd"),
        }
    if abs(_seconds(span["start_time"]) - _seconds(row["ts"])) > 0.001:
        mismatched["start_time"] = {"expected": row["ts"], "got": span["start_time"]}
    if abs(duration_ms - float(row["latency_ms"])) > 1:
        mismatched["duration_ms"] = {"expected": row["latency_ms"], "got": duration_ms}
    return {"ok": not mismatched, "request_id": row["request_id"], "mismatched": mismatched}


def check_every_span(rows: list[Row], spans: dict[tuple[str, int], Span]) -> dict[str, Any]:
    """Across all calls: tokens and model as Phoenix's UI reads them, status, reasoning."""
    model_missing = tokens_wrong = status_wrong = 0
    reasoning_sent = reasoning_shown = cache_read_sent = cache_read_shown = 0
    for row in rows:
        span = spans.get((row["request_id"], int(row["attempt"])))
        if span is None:
            continue
        attrs = span["attributes"]
        answered = row["status"] in _ANSWERED
        if span["span_kind"] != "LLM" or not attrs.get("llm.model_name"):
            model_missing += 1
        if answered and (
            attrs.get("llm.token_count.prompt") != row["prompt_tokens"]
            or attrs.get("llm.token_count.completion") != row["completion_tokens"]
        ):
            tokens_wrong += 1
        if (span["status_code"] == "ERROR") == answered:
            status_wrong += 1
        if "gen_ai.usage.reasoning.output_tokens" in attrs:
            reasoning_sent += 1
            reasoning_shown += "llm.token_count.completion_details.reasoning" in attrs
        if "gen_ai.usage.cache_read.input_tokens" in attrs:
            cache_read_sent += 1
            cache_read_shown += "llm.token_count.prompt_details.cache_read" in attrs
    return {
        "ok": not (model_missing or tokens_wrong or status_wrong),
        "spans_without_llm_kind_or_model": model_missing,
        "answered_spans_with_wrong_llm_token_counts": tokens_wrong,
        "spans_with_wrong_error_status": status_wrong,
        # reported, not failed on: what Phoenix's conversion leaves out
        "reasoning_tokens": {"sent": reasoning_sent, "as_llm_token_count": reasoning_shown},
        "cache_read_tokens": {"sent": cache_read_sent, "as_llm_token_count": cache_read_shown},
    }


def check_threads(
    rows: list[Row], spans: dict[tuple[str, int], Span], sessions: list[dict[str, Any]]
) -> dict[str, Any]:
    """A trace's steps share one Phoenix trace with each step under the step it was made in;
    a conversation is one Phoenix session holding its traces."""
    by_trace: dict[str, list[Row]] = defaultdict(list)
    traces_of: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row.get("trace_id"):
            by_trace[row["trace_id"]].append(row)
        if row.get("conversation_id"):
            traces_of[row["conversation_id"]].add(row.get("trace_id") or row["request_id"])
    split_traces, wrong_parents, steps = [], [], 0
    for trace, members in by_trace.items():
        found = [spans.get((r["request_id"], int(r["attempt"]))) for r in members]
        if len({s["context"]["trace_id"] for s in found if s}) != 1 or None in found:
            split_traces.append(trace)
        for row, span in zip(members, found, strict=True):
            parent = row.get("parent_request_id")
            if not parent or span is None:
                continue
            steps += 1
            above = spans.get((parent, 1))
            if above is None or span["parent_id"] != above["context"]["span_id"]:
                wrong_parents.append(row["request_id"])
    shown = {s["sessionId"]: s["numTraces"] for s in sessions}
    wrong_sessions = sorted(c for c, traces in traces_of.items() if shown.get(c) != len(traces))
    multi = max(by_trace.values(), key=len, default=[])
    example = {
        "trace_id": multi[0]["trace_id"] if multi else None,
        "phoenix_trace_id": (
            spans[(multi[0]["request_id"], int(multi[0]["attempt"]))]["context"]["trace_id"]
            if multi
            else None
        ),
        "steps": [
            {
                "request_id": r["request_id"],
                "parent_request_id": r.get("parent_request_id"),
                "phoenix_parent_id": spans[(r["request_id"], int(r["attempt"]))]["parent_id"],
            }
            for r in multi
        ],
    }
    return {
        "ok": bool(by_trace) and not (split_traces or wrong_parents or wrong_sessions),
        "traces": len(by_trace),
        "traces_split_or_missing": split_traces,
        "child_steps": steps,
        "child_steps_under_wrong_parent": wrong_parents,
        "conversations": len(traces_of),
        "phoenix_sessions": len(shown),
        "conversations_whose_session_differs": wrong_sessions,
        "example_trace": example,
    }


def _messages(row: Row) -> list[dict[str, Any]]:
    try:
        messages = json.loads(row.get("messages") or "[]")
    except ValueError:
        return []
    return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []


def check_bodies(rows: list[Row], spans: dict[tuple[str, int], Span]) -> dict[str, Any]:
    """With --bodies: the messages (gen_ai.input.messages) and answers (gen_ai.output.messages)
    as Phoenix's span view reads them, OpenInference's llm.input_messages.N.message.* and
    llm.output_messages.N.message.*: every message there, a tool result with its text and the
    id of the call it answers, an answer with its text."""
    wrong_count, tool_results, tool_results_lost, answers, answers_lost = 0, 0, [], 0, []
    for row in rows:
        span = spans.get((row["request_id"], int(row["attempt"])))
        messages = _messages(row)
        if span is None or not messages:
            continue
        attrs = span["attributes"]
        shown = {
            key.split(".")[2]
            for key in attrs
            if key.startswith("llm.input_messages.") and key.endswith(".message.role")
        }
        wrong_count += len(shown) != len(messages)
        for index, message in enumerate(messages):
            if message.get("role") != "tool":
                continue
            tool_results += 1
            base = f"llm.input_messages.{index}.message"
            if (attrs.get(f"{base}.content"), attrs.get(f"{base}.tool_call_id")) != (
                message.get("content"),
                message.get("tool_call_id"),
            ):
                tool_results_lost.append(row["request_id"])
        if row["status"] in _ANSWERED and row.get("response"):
            answers += 1
            if attrs.get("llm.output_messages.0.message.content") != row["response"]:
                answers_lost.append(row["request_id"])
    return {
        "ok": not (wrong_count or tool_results_lost or answers_lost),
        "spans_with_wrong_message_count": wrong_count,
        "tool_results": tool_results,
        "tool_results_without_content_or_call_id": len(tool_results_lost),
        "example_tool_result_lost": tool_results_lost[:1],
        "answers": answers,
        "answers_not_shown": len(answers_lost),
    }


def check_totals(rows: list[Row], figures: dict[str, Any]) -> dict[str, Any]:
    """The project's token totals as Phoenix's UI shows them. Phoenix sums the LLM spans that
    have no LLM span under them (phoenix/server/api/dataloaders/token_counts.py: "wrapping
    spans can repeat their children's token counts"), so a step that another call was made in
    is left out of its totals: the expected sums follow that rule, and what it leaves out is
    reported."""
    parents = {r["parent_request_id"] for r in rows if r.get("parent_request_id")}
    leaves = [r for r in rows if r["request_id"] not in parents]
    expected = (
        sum(r["prompt_tokens"] or 0 for r in leaves),
        sum(r["completion_tokens"] or 0 for r in leaves),
    )
    shown = (figures.get("tokenCountPrompt"), figures.get("tokenCountCompletion"))
    # llmbench's trace of a call: its trace id, else its conversation, else its request
    traces = {
        r.get("trace_id")
        or (f"conversation:{r['conversation_id']}" if r.get("conversation_id") else None)
        or f"request:{r['request_id']}"
        for r in rows
    }
    return {
        "ok": shown == expected and figures.get("traceCount") == len(traces),
        "token_count_prompt": shown[0],
        "token_count_completion": shown[1],
        "expected_by_phoenix_rule": {"prompt": expected[0], "completion": expected[1]},
        "all_calls": {
            "prompt": sum(r["prompt_tokens"] or 0 for r in rows),
            "completion": sum(r["completion_tokens"] or 0 for r in rows),
        },
        "calls_left_out_as_wrappers": sum(1 for r in rows if r["request_id"] in parents),
        "trace_count": figures.get("traceCount"),
        "expected_trace_count": len(traces),
        "session_count": figures.get("sessionCount"),
        # Phoenix prices spans with its own model table (llm.model_name, llm.provider); it
        # does not read llmbench.cost_usd
        "phoenix_cost_usd": (figures.get("costSummary") or {}).get("total", {}).get("cost"),
        "llmbench_cost_usd": round(sum(r["cost"] or 0 for r in rows), 6),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--project", default="default")
    parser.add_argument("--calls", required=True, help="`llmbench logs export` JSON lines")
    parser.add_argument("--sent", type=int, required=True)
    parser.add_argument(
        "--bodies", action=argparse.BooleanOptionalAction, default=False, help="sent --bodies"
    )
    parser.add_argument("--export-ms", type=int, default=None)
    parser.add_argument("--phoenix-version", default=None)
    parser.add_argument("--timing", nargs="*", default=[], help="NAME=SECONDS, reported")
    parser.add_argument("--run-start-ms", type=int, default=None, help="for the total time")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--stall", type=float, default=120)
    args = parser.parse_args()

    with open(args.calls, encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    stored, ingest_s = wait_for_ingestion(
        args.url, args.project, args.sent, args.timeout, args.stall
    )
    listed = list(all_spans(args.url, args.project))
    spans: dict[tuple[str, int], Span] = {}
    for span in listed:
        attrs = span["attributes"]
        spans[(attrs.get("llmbench.request_id"), int(attrs.get("llmbench.attempt", 1)))] = span
    missing = [r["request_id"] for r in rows if (r["request_id"], int(r["attempt"])) not in spans]
    counts = {
        "ok": args.sent == len(rows) == stored == len(listed) == len(spans) and not missing,
        "calls_in_database": len(rows),
        "spans_sent": args.sent,
        "phoenix_record_count": stored,
        "phoenix_spans_listed": len(listed),
        "calls_without_span": missing[:10],
    }
    figures = project_figures(args.url, args.project) or {}
    answered = [r for r in rows if r["status"] in _ANSWERED]
    example_row = next(
        (r for r in answered if r["prompt_tokens"] and r.get("feature") and r.get("cost")), None
    )
    example_span = spans.get((example_row["request_id"], 1)) if example_row else None
    example = (
        check_example(example_row, example_span)
        if example_row and example_span
        else {"ok": False, "error": "no answered call with a span to compare"}
    )
    sessions = [e["node"] for e in figures.get("sessions", {}).get("edges", [])]
    checks = {
        "counts": counts,
        "example_span": example,
        "every_span": check_every_span(rows, spans),
        "threads": check_threads(rows, spans, sessions),
        "ui_totals": check_totals(rows, figures),
    }
    if args.bodies:
        checks["bodies"] = check_bodies(rows, spans)
    verdict = {
        "ok": all(check["ok"] for check in checks.values()),
        "phoenix_version": args.phoenix_version,
        "project": args.project,
        "bodies": args.bodies,
        "export_ms": args.export_ms,
        "ingested_within_s": round(ingest_s, 1),
        **{name: float(value) for name, _, value in (t.partition("=") for t in args.timing)},
        "total_run_s": (
            round(time.time() - args.run_start_ms / 1000, 1) if args.run_start_ms else None
        ),
        "checks": checks,
        "example_span_as_phoenix_returns_it": example_span,
    }
    print(json.dumps(verdict, indent=2, ensure_ascii=False))
    return 0 if verdict["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
