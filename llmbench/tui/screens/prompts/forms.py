"""The Prompts pane's dialogs: a new prompt, a label to move, the confirmation of a label move
(worded as a rollback when production goes back to an older version), and a note."""

from __future__ import annotations

from llmbench.tui.screens.dialogs import ConfirmDialog, Field, FormDialog
from llmbench.tui.widgets.version_table import PRODUCTION

WHOLE_PROMPT = "the whole prompt"
"""The scope of a note about the prompt rather than one version."""
NEW_PROMPT_DRAFT = "dialog:new-prompt"
"""The new-prompt dialog's fields are kept under this draft key until the prompt exists."""


def new_prompt_dialog() -> FormDialog:
    from llmbench.services.prompts.library import new_prompt_name_problem

    def check(values: dict[str, str]) -> str | None:
        problem = new_prompt_name_problem(values["name"])
        return None if problem is None else problem[0].upper() + problem[1:] + "."

    fields = [
        Field("name", "Name", placeholder="support-reply"),
        Field("description", "What it is for", placeholder="First reply to a ticket"),
        Field("tags", "Tags (comma-separated)", placeholder="support, customer-facing"),
    ]
    return FormDialog(
        "New prompt", fields, submit="Create", validate=check, draft_key=NEW_PROMPT_DRAFT
    )


def label_dialog(version: int) -> FormDialog:
    fields = [Field("label", "Label to move here", value="staging", placeholder="staging")]
    return FormDialog(f"Label v{version}", fields, submit="Next")


def move_dialog(prompt_name: str, label: str, current: int | None, target: int) -> ConfirmDialog:
    """Ask before `label` moves from version `current` (None: nowhere yet) to `target`."""
    origin = f"from v{current} " if current else ""
    rollback = current is not None and target < current
    what = "Roll back" if rollback and label == PRODUCTION else "Move"
    question = (
        f"{what} {label} of {prompt_name} {origin}to v{target}?\n"
        f"Callers that ask for {label} get v{target} from their next call."
    )
    return ConfirmDialog(f"{what} {label}", question, yes=what)


def note_dialog(prompt_name: str, version: int | None) -> FormDialog:
    """A note about the prompt, or about `version` when one is shown (offered first)."""
    from llmbench.services.prompts.library import NOTE_KINDS

    scopes = [WHOLE_PROMPT]
    if version is not None:
        scopes.insert(0, f"v{version}")
    fields = [
        Field("kind", "Kind", choices=NOTE_KINDS),
        Field("about", "About", choices=scopes),
        Field("text", "Note", placeholder="Why this odd pattern exists…"),
    ]
    return FormDialog(f"Note on {prompt_name}", fields)
