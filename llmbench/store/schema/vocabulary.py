"""The closed sets of values the schema's CHECK constraints allow, for the code that writes
and reads those columns."""

from __future__ import annotations

CALL_STATUSES = ("ok", "error", "timeout", "rate_limited", "blocked", "cache_hit")
NOTE_KINDS = ("pattern", "lesson", "failed-approach", "model-quirk")
CASE_SOURCES = ("manual", "import", "promoted-from-call")
RUN_KINDS = ("compare", "eval", "migration")
RUN_STATUSES = ("pending", "running", "done", "cancelled", "failed")
