"""F2's `G`: the highlighted prompt's guard policy, what its calls get (each kind's action and
whether the prompt or the config's [guard] sets it), and the prompt's own settings to change.

The settings are those of `llmbench prompts guard`, checked by the same service before the
dialog closes: a refused value stays on screen with the reason, and nothing is saved. Reading
and saving run in the pane's workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from llmbench.tui.screens.dialogs import DIALOG_CSS

if TYPE_CHECKING:
    from llmbench.core.guard.policy import GuardPolicy
    from llmbench.services.prompts.guard_policy import PolicyView
    from llmbench.tui.screens.prompts.pane import PromptsScreen

# (field, label, placeholder); the placeholders of the limits say what the config sets.
FIELDS = (
    ("actions", "Actions", "KIND=ACTION, … e.g. pii=redact, injection=block"),
    ("injection_threshold", "Injection threshold", "0-1"),
    ("max_tokens_per_request", "Tokens per request", "0: no limit"),
    ("max_tokens_per_variable", "Tokens per variable", "0: no limit"),
    ("banned_phrases", "Banned phrases", "phrase; another phrase"),
)


@dataclass(frozen=True)
class GuardChange:
    """What the dialog asks for: the prompt's new own policy, or None to drop it."""

    own: dict[str, Any] | None


def summary_text(view: PolicyView) -> str:
    """What the prompt's calls get, compactly: the kinds under each action (* when the prompt
    sets it), the limits and the banned phrases."""
    if view.problem:
        head = f"Its stored policy cannot be read ({view.problem}): the config's applies."
    elif view.own:
        head = "Own policy (* set by this prompt; the rest from the config's [guard])."
    else:
        head = "No own policy: the config's [guard] applies."
    lines = [head]
    for action, kinds in view.by_action().items():
        named = " ".join(f"{kind}*" if own else kind for kind, own in kinds)
        lines.append(f"{action:<6} {named}")
    policy = view.policy
    own_keys = ("injection_threshold", "max_tokens_per_request", "max_tokens_per_variable")
    mark = {key: "*" if key in view.own else "" for key in (*own_keys, "banned_phrases")}
    lines.append(
        f"threshold {policy.injection_threshold:g}{mark['injection_threshold']} · tokens per"
        f" request {policy.max_tokens_per_request or 'none'}{mark['max_tokens_per_request']}"
        f" · per variable {policy.max_tokens_per_variable or 'none'}"
        f"{mark['max_tokens_per_variable']}"
    )
    phrases = ", ".join(f'"{phrase}"' for phrase in policy.banned_phrases) or "none"
    lines.append(f"banned phrases{mark['banned_phrases']}: {phrases}")
    return "\n".join(lines)


class GuardPolicyDialog(ModalScreen[GuardChange | None]):
    """The policy in force, and the prompt's own settings as fields (empty: the config's)."""

    AUTO_FOCUS = "#guard-actions"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="guard_cancel"),
        Binding("ctrl+s", "save", "Save", id="guard_save"),
        Binding("ctrl+r", "use_config", "Use the config's", id="guard_use_config"),
    ]
    DEFAULT_CSS = (
        "GuardPolicyDialog {"
        + DIALOG_CSS
        + """
        .dialog-box { width: 78; }
        #guard-summary { height: auto; max-height: 8; margin-bottom: 1; }
        .guard-row { height: 1; }
        .guard-row Label { width: 21; }
        .guard-row Input { height: 1; width: 1fr; border: none; padding: 0 1;
                           background: $boost; }
        .guard-row Input:focus { background: $primary 25%; }
    }"""
    )

    def __init__(self, view: PolicyView, base: GuardPolicy) -> None:
        super().__init__()
        self.view = view
        self.base = base

    def compose(self) -> ComposeResult:
        from llmbench.services.prompts.guard_policy import form_values

        values = form_values(self.view.own)
        config_says = {
            "injection_threshold": f"{self.base.injection_threshold:g}",
            "max_tokens_per_request": str(self.base.max_tokens_per_request or "no limit"),
            "max_tokens_per_variable": str(self.base.max_tokens_per_variable or "no limit"),
        }
        with Vertical(classes="dialog-box"):
            title = f"Guard policy of {self.view.prompt}"
            yield Static(title, classes="dialog-title", markup=False)
            with VerticalScroll(id="guard-summary"):
                yield Static(summary_text(self.view), id="guard-summary-text", markup=False)
            for name, label, placeholder in FIELDS:
                if name in config_says:
                    placeholder = f"{placeholder}; empty: the config's {config_says[name]}"
                with Horizontal(classes="guard-row"):
                    yield Label(label)
                    yield Input(values[name], placeholder=placeholder, id=f"guard-{name}")
            yield Static("", classes="dialog-error", id="guard-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (enter)", id="save", variant="primary")
                yield Button("Use the config's (ctrl+r)", id="use-config")
                yield Button("Cancel (esc)", id="cancel")

    def values(self) -> dict[str, str]:
        return {name: self.query_one(f"#guard-{name}", Input).value for name, _, _ in FIELDS}

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {"save": self.action_save, "use-config": self.action_use_config}
        actions.get(str(event.button.id), self.action_cancel)()

    def action_save(self) -> None:
        from llmbench.services.prompts.guard_policy import PolicyError, checked_policy

        try:
            own = checked_policy(self.values(), self.view.own, self.base)
        except PolicyError as error:
            self.query_one("#guard-error", Static).update(f"Not saved: {error}")
            return
        self.dismiss(GuardChange(own))

    def action_use_config(self) -> None:
        self.dismiss(GuardChange(None))

    def action_cancel(self) -> None:
        self.dismiss(None)


def edit_guard_policy(pane: PromptsScreen) -> None:
    """Read the highlighted prompt's policy in a worker, then ask for changes."""
    if pane.prompt_history is None:
        pane.notify("Highlight a prompt first.", severity="warning")
        return
    from llmbench.services.prompts.guard_policy import read_policy

    store, settings = pane.bench.store, pane.bench.settings
    prompt_id = pane.prompt_history.prompt.id

    def read() -> tuple[PolicyView, GuardPolicy]:
        base = settings.guard.policy()
        return read_policy(store, prompt_id, base), base

    pane.read_in_thread(read, lambda found: _ask(pane, *found), group="guard")


def _ask(pane: PromptsScreen, view: PolicyView, base: GuardPolicy) -> None:
    pane.app.push_screen(
        GuardPolicyDialog(view, base), lambda change: _save(pane, view, base, change)
    )


def _save(
    pane: PromptsScreen, view: PolicyView, base: GuardPolicy, change: GuardChange | None
) -> None:
    if change is None:
        return
    if change.own == view.own or (change.own is None and not view.own):
        pane.notify("Nothing changed.", title=f"Guard policy of {view.prompt}")
        return
    from llmbench.services.prompts import guard_policy

    store, by, prompt_id, own = pane.bench.store, pane.bench.reviewer, view.prompt_id, change.own

    def act() -> PolicyView:
        if own is None:
            return guard_policy.reset_policy(store, prompt_id, base)
        return guard_policy.save_policy(store, prompt_id, own, base, by=by)

    pane.act_in_thread(act, lambda saved: _saved(pane, saved), what="Guard policy")


def _saved(pane: PromptsScreen, view: PolicyView) -> None:
    what = "saved" if view.own else "dropped: the config's [guard] applies"
    pane.notify(
        f"Own policy {what}. Running gateways use it within 30 s.",
        title=f"Guard policy of {view.prompt}",
    )
