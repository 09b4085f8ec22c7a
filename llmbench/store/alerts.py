"""Alerts: drift found by the Monitor, retention purges, and (later) budgets. Shared by the
Monitor and Costs panes; an alert stays open until somebody acknowledges it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from llmbench.store.timestamps import utc_now

SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True)
class AlertRow:
    id: int
    kind: str
    severity: str
    message: str
    context: dict[str, Any]
    created_at: str
    acked_at: str | None
    acked_by: str | None

    @property
    def open(self) -> bool:
        return self.acked_at is None


def add_alert(
    db: Database,
    kind: str,
    severity: str,
    message: str,
    context: Mapping[str, Any],
    created_at: str | None = None,
) -> int:
    if severity not in SEVERITIES:
        raise ValueError(f"unknown alert severity {severity!r}")
    return int(
        db.execute(
            "INSERT INTO alerts (kind, severity, message, context, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [kind, severity, message, json.dumps(dict(context)), created_at or utc_now()],
        ).lastrowid
    )


def list_alerts(db: Database, limit: int = 200) -> list[AlertRow]:
    """Open alerts first (newest first), then acknowledged ones."""
    rows = db.execute(
        "SELECT id, kind, severity, message, context, created_at, acked_at, acked_by"
        " FROM alerts ORDER BY acked_at IS NOT NULL, created_at DESC, id DESC LIMIT ?",
        [limit],
    ).fetchall()
    return [AlertRow(*row[:4], json.loads(row[4]), *row[5:]) for row in rows]


def ack_alert(db: Database, alert_id: int, by: str, at: str | None = None) -> bool:
    """Acknowledge an open alert; False when it does not exist or was already acknowledged."""
    changed = db.execute(
        "UPDATE alerts SET acked_at = ?, acked_by = ? WHERE id = ? AND acked_at IS NULL",
        [at or utc_now(), by, alert_id],
    ).rowcount
    return changed == 1


def drift_keys(db: Database) -> set[str]:
    """Keys of every drift already raised (open or acknowledged): the same drift found again by
    a later check is the same alert, not a new one."""
    rows = db.execute(
        "SELECT json_extract(context, '$.drift_key') FROM alerts WHERE kind = 'drift'"
    ).fetchall()
    return {row[0] for row in rows if row[0]}


@dataclass(frozen=True)
class FindingRef:
    """An alert that stands for a finding (a spike bucket, a budget threshold) by its key."""

    alert_id: int
    open: bool


def finding_refs(db: Database, kinds: Sequence[str]) -> dict[str, FindingRef]:
    """Every finding key of the alerts of these kinds (the context's `key`, and each of its
    `keys` for an alert that stands for several findings, as a spike incident does), with the
    alert that holds it: a finding found again belongs to that alert."""
    marks = ", ".join("?" for _ in kinds)
    rows = db.execute(
        f"SELECT id, acked_at IS NULL, context FROM alerts WHERE kind IN ({marks}) ORDER BY id",
        list(kinds),
    ).fetchall()
    found: dict[str, FindingRef] = {}
    for alert_id, is_open, text in rows:
        context = json.loads(text)
        for key in [context.get("key"), *context.get("keys", [])]:
            if isinstance(key, str) and key:
                found[key] = FindingRef(int(alert_id), bool(is_open))
    return found


def update_alert(
    db: Database, alert_id: int, severity: str, message: str, context: Mapping[str, Any]
) -> None:
    """Rewrite an open alert's words and facts (an incident that grew); when it was raised
    and whether it was acknowledged stay as they were."""
    if severity not in SEVERITIES:
        raise ValueError(f"unknown alert severity {severity!r}")
    db.execute(
        "UPDATE alerts SET severity = ?, message = ?, context = ? WHERE id = ?",
        [severity, message, json.dumps(dict(context)), alert_id],
    )
