"""`llmbench export otel`: the audit log's calls, as filtered in F6, sent to an OTLP/HTTP
collector as GenAI spans, oldest first (core/audit/genai_spans.py maps them,
gateway/otel_spans.py sends them). Rows stream from the database a batch at a time and each
batch waits for the collector, so any size of history goes in little memory, and a collector
that does not take a batch stops the export with what had been sent. What is sent is what is
stored: keys were redacted when the calls were recorded, and bodies go only when asked for."""

from __future__ import annotations

from llmbench.gateway.otel_spans import Destination, OtelExportError, SpanBatches
from llmbench.store.audit import browser as audit_browser
from llmbench.store.audit.browser import Filter
from llmbench.store.db import Store


def export_spans(store: Store, flt: Filter, destination: Destination) -> int:
    """Send every call `flt` matches as a span; how many were sent. Raises OtelExportError
    when the collector stops taking them."""
    return SpanBatches(destination).send(audit_browser.iter_rows(store.read(), flt))


__all__ = ["Destination", "OtelExportError", "export_spans"]
