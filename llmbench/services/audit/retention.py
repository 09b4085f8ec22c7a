"""Retention: delete old calls, or keep their metrics and purge their bodies, per the policy in
the config file. The audit chain stays verifiable (a deletion anchors it), and every purge
leaves an alert saying who purged what and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from llmbench.config import RetentionSettings
from llmbench.gateway.chain_head import record_head
from llmbench.gateway.chain_key import load_chain_key
from llmbench.store import alerts as alerts_repo
from llmbench.store.audit import retention as retention_repo
from llmbench.store.audit.log import PurgePlan, database_id, plan_purge, purge
from llmbench.store.db import Store
from llmbench.store.views import to_iso

if TYPE_CHECKING:
    from llmbench.store.db import Database


class NoRetentionPolicy(ValueError):
    """Neither delete_after_days nor redact_after_days is set."""


NO_POLICY = (
    "no retention policy: set delete_after_days and/or redact_after_days under [retention] "
    "in the config file (llmbench config path)"
)


@dataclass(frozen=True)
class RetentionPolicy:
    delete_after_days: int = 0
    redact_after_days: int = 0

    @classmethod
    def from_settings(cls, settings: RetentionSettings) -> RetentionPolicy:
        return cls(settings.delete_after_days, settings.redact_after_days)

    def __post_init__(self) -> None:
        if self.delete_after_days < 0 or self.redact_after_days < 0:
            raise ValueError("retention days cannot be negative")

    @property
    def empty(self) -> bool:
        return not self.delete_after_days and not self.redact_after_days

    def describe(self) -> str:
        parts = []
        if self.delete_after_days:
            parts.append(f"delete calls older than {self.delete_after_days} days")
        if self.redact_after_days and (
            not self.delete_after_days or self.redact_after_days < self.delete_after_days
        ):
            parts.append(
                f"keep the metrics but purge the bodies of calls older than "
                f"{self.redact_after_days} days"
            )
        return "; ".join(parts) or "keep everything"


def _cutoffs(policy: RetentionPolicy, now: datetime) -> tuple[str | None, str | None]:
    delete_before = (
        to_iso(now - timedelta(days=policy.delete_after_days)) if policy.delete_after_days else None
    )
    redact_before = (
        to_iso(now - timedelta(days=policy.redact_after_days)) if policy.redact_after_days else None
    )
    if delete_before and redact_before and redact_before <= delete_before:
        redact_before = None  # everything it would redact is deleted anyway
    return delete_before, redact_before


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def preview(store: Store, policy: RetentionPolicy, *, now: datetime | None = None) -> PurgePlan:
    """What a purge would do now (a dry run: nothing changes)."""
    if policy.empty:
        raise NoRetentionPolicy(NO_POLICY)
    delete_before, redact_before = _cutoffs(policy, _now(now))
    return plan_purge(store.read(), delete_before, redact_before)


def describe_plan(plan: PurgePlan, *, done: bool) -> str:
    if not plan.to_delete and not plan.to_redact:
        return "nothing to purge: no call is older than the policy keeps"
    parts = []
    if plan.to_delete:
        verb = "deleted" if done else "delete"
        parts.append(f"{verb} {plan.to_delete:,} calls before {plan.delete_before}")
    if plan.to_redact:
        verb = "purged" if done else "purge"
        parts.append(
            f"{verb} the bodies of {plan.to_redact:,} calls before {plan.redact_before} "
            "(their metrics stay)"
        )
    return "; ".join(parts)


@dataclass(frozen=True)
class PurgeOutcome:
    plan: PurgePlan
    alert_id: int | None
    """The alert that records this purge (None when there was nothing to purge)."""
    bytes_before: int
    bytes_after: int
    vacuumed: bool
    file_mode: int

    @property
    def changed(self) -> bool:
        return self.alert_id is not None


def run_purge(
    store: Store,
    policy: RetentionPolicy,
    *,
    who: str,
    now: datetime | None = None,
    vacuum: bool = False,
    key_file: Path | None = None,
) -> PurgeOutcome:
    """Purge per the policy in one writer job: the plan is made again under the write lock, so
    the counts recorded are the rows really purged; the record is written in the same
    transaction, so no purge goes unrecorded."""
    if policy.empty:
        raise NoRetentionPolicy(NO_POLICY)
    moment = _now(now)
    delete_before, redact_before = _cutoffs(policy, moment)
    key = load_chain_key(database_id(store.read()), create=False, explicit_file=key_file)
    bytes_before = retention_repo.file_bytes(store.read())
    reason = f"retention by {who}: {policy.describe()}"

    def job(db: Database) -> tuple[PurgePlan, int | None]:
        plan = plan_purge(db, delete_before, redact_before)
        if not plan.to_delete and not plan.to_redact:
            return plan, None
        done = purge(db, key, plan, reason)
        plan = done.plan
        context = {
            "who": who,
            "policy": policy.describe(),
            "delete_before": plan.delete_before,
            "redact_before": plan.redact_before,
            "deleted": plan.to_delete,
            "redacted": plan.to_redact,
            # The purge record this alert stands for: its one-time token and its HMAC.
            "purge_record": done.record_id,
            "purge_token": done.token,
            "purge_record_hmac": done.record_hash,
        }
        message = f"Retention purge by {who}: {describe_plan(plan, done=True)}"
        return plan, alerts_repo.add_alert(db, "retention", "info", message, context)

    plan, alert_id = store.write(job)
    if alert_id is not None:
        record_head(store, key)  # the log holds fewer calls now
    if vacuum:
        retention_repo.vacuum(store.read())
    elif alert_id is not None:
        retention_repo.checkpoint(store.read())
    return PurgeOutcome(
        plan=plan,
        alert_id=alert_id,
        bytes_before=bytes_before,
        bytes_after=retention_repo.file_bytes(store.read()),
        vacuumed=vacuum,
        file_mode=retention_repo.keep_private(store.path),
    )
