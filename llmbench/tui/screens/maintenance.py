"""Retention purge and integrity check from the TUI, for any pane that offers them.

`p` reads what the retention policy would purge (a dry run, in a worker), shows it, and purges
only after a confirming key; `v` walks the audit chain in a worker and says whether it holds.
Both write their outcome where everybody sees it: a purge leaves an alert naming who purged
what, and the verdict of a check stays on the pane.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from llmbench.tui.screens.base import PaneScreen
from llmbench.tui.screens.dialogs import DIALOG_CSS

if TYPE_CHECKING:
    from llmbench.core.audit.chain import ChainReport
    from llmbench.services.audit.retention import PurgeOutcome
    from llmbench.store.audit.log import PurgePlan

T = TypeVar("T")

PURGE = "purge"
PURGE_AND_VACUUM = "vacuum"


@dataclass(frozen=True)
class PurgePreview:
    policy: str
    plan: PurgePlan | None
    plan_text: str = ""
    problem: str | None = None

    @property
    def nothing_to_do(self) -> bool:
        return self.plan is not None and not self.plan.to_delete and not self.plan.to_redact


class PurgeDialog(ModalScreen[str | None]):
    """The dry run's figures and the choice: purge, purge and vacuum, or leave it."""

    BINDINGS = [
        Binding("y", f"answer('{PURGE}')", "Purge", id="purge_yes"),
        Binding("v", f"answer('{PURGE_AND_VACUUM}')", "Purge and vacuum", id="purge_vacuum"),
        Binding("n,escape", "answer('')", "Cancel", id="purge_no"),
    ]
    DEFAULT_CSS = "PurgeDialog {" + DIALOG_CSS + "}"

    def __init__(self, policy: str, plan_text: str) -> None:
        super().__init__()
        self.policy = policy
        self.plan_text = plan_text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static("Retention purge — dry run", classes="dialog-title")
            yield Static(f"Policy: {self.policy}.", markup=False)
            yield Static(f"This will {self.plan_text}.", id="purge-plan", markup=False)
            yield Static(
                "The audit chain stays verifiable, and the purge is recorded as an alert with "
                "your name. It cannot be undone.",
                classes="dialog-error",
                markup=False,
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Purge (y)", id=PURGE, variant="error")
                yield Button("Purge + vacuum (v)", id=PURGE_AND_VACUUM)
                yield Button("Cancel (n)", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_answer("" if event.button.id == "cancel" else str(event.button.id))

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer or None)


def describe_report(report: ChainReport, checked_at: datetime) -> str:
    at = checked_at.strftime("%H:%M:%S")
    if report.problem is not None:
        return (
            f"Integrity FAILED at call {report.problem.call_id}: {report.problem.reason} "
            f"({report.checked:,} calls before it verified; checked {at})"
        )
    if report.empty:  # never "ok": an emptied log with no trace left says the same
        return f"Integrity: nothing to verify, the log holds no calls (checked {at})"
    purged = f", {report.purged_bodies:,} with purged bodies" if report.purged_bodies else ""
    head = f", head {report.head_id}:{(report.head_hash or '')[:12]}…" if report.head_id else ""
    return f"Integrity ok: {report.checked:,} calls verified{purged}{head} (checked {at})"


class MaintenancePane(PaneScreen[T], Generic[T]):
    """A pane with the retention purge (`p`) and the integrity check (`v`)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "purge", "Purge…", id="retention_purge"),
        Binding("v", "verify", "Verify", id="audit_verify"),
    ]

    integrity: str = ""
    """The last integrity verdict, for the pane to show."""

    # -- retention -----------------------------------------------------------------------------
    def action_purge(self) -> None:
        self.read_in_thread(self._purge_preview, self._ask_to_purge, group="purge-preview")

    def _purge_preview(self) -> PurgePreview:
        from llmbench.services.audit.retention import (
            NoRetentionPolicy,
            RetentionPolicy,
            describe_plan,
            preview,
        )

        policy = RetentionPolicy.from_settings(self.bench.settings.retention)
        try:
            plan = preview(self.bench.store, policy, now=self.bench.now())
        except NoRetentionPolicy as error:
            return PurgePreview(policy.describe(), None, problem=str(error))
        return PurgePreview(policy.describe(), plan, describe_plan(plan, done=False))

    def _ask_to_purge(self, found: PurgePreview) -> None:
        if found.problem is not None:
            self.notify(found.problem, title="Retention purge", severity="warning", timeout=8)
            return
        if found.nothing_to_do:
            self.notify(
                f"Nothing to purge under the policy ({found.policy}).", title="Retention purge"
            )
            return
        self.app.push_screen(PurgeDialog(found.policy, found.plan_text), self._purge_answered)

    def _purge_answered(self, answer: str | None) -> None:
        if answer is None:
            return
        from llmbench.services.audit.retention import RetentionPolicy, run_purge

        policy = RetentionPolicy.from_settings(self.bench.settings.retention)
        store, who, now = self.bench.store, self.bench.reviewer, self.bench.now()
        self.notify("Purging…", title="Retention purge")
        self.act_in_thread(
            lambda: run_purge(store, policy, who=who, now=now, vacuum=answer == PURGE_AND_VACUUM),
            self._purged,
            what="Retention purge",
        )

    def _purged(self, outcome: PurgeOutcome) -> None:
        from llmbench.services.audit.retention import describe_plan

        done = describe_plan(outcome.plan, done=True)
        space = (
            f" Vacuumed: {outcome.bytes_before / 1_048_576:.1f} → "
            f"{outcome.bytes_after / 1_048_576:.1f} MiB."
            if outcome.vacuumed
            else ""
        )
        self.notify(
            f"{done[0].upper()}{done[1:]}.{space} File mode {outcome.file_mode:04o}.",
            title="Retention purge done",
            timeout=8,
        )
        self.reload()

    # -- integrity -----------------------------------------------------------------------------
    def action_verify(self) -> None:
        store, now = self.bench.store, self.bench.now

        def verify() -> tuple[ChainReport, datetime]:
            from llmbench.services.audit.verify import verify as verify_chain

            return verify_chain(store), now()

        self.notify("Walking the audit chain…", title="Verify integrity")
        self.act_in_thread(verify, self._verified, what="Verify integrity")

    def _verified(self, result: tuple[ChainReport, datetime]) -> None:
        report, checked_at = result
        self.integrity = describe_report(report, checked_at)
        self.notify(
            self.integrity,
            title="Verify integrity",
            severity="information" if report.ok else "error",
            timeout=8,
        )
        self.show_integrity(self.integrity)

    def show_integrity(self, text: str) -> None:
        """Where the pane keeps the last verdict; panes without a place rely on the toast."""
