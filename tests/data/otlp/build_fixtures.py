"""Writes collector_file.jsonl: what the OpenTelemetry Collector's `file` exporter writes for
the spans of tests/support/genai_spans.py (one OTLP JSON export request per line), built from
opentelemetry-sdk's spans with the OTLP exporter's own encoder (see README.md).

Run from the repository's root: python -m tests.data.otlp.build_fixtures
"""

from __future__ import annotations

from pathlib import Path

from tests.support.genai_spans import LITELLM, START_NS, agent_trace, otlp_json, recorded_spans

HERE = Path(__file__).parent


def litellm_call(tracer: object) -> None:
    span = tracer.start_span("litellm_request", attributes=LITELLM, start_time=START_NS + 5 * 10**9)
    span.end(end_time=START_NS + 5 * 10**9 + 830 * 10**6)


def main() -> None:
    spans = recorded_spans(agent_trace)  # in the order they ended: children first
    lines = [
        # The collector's batch cut the trace in two: the children's line comes first.
        otlp_json(spans[:3]),
        otlp_json(spans[3:]),
        otlp_json(recorded_spans(litellm_call)),
    ]
    (HERE / "collector_file.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
