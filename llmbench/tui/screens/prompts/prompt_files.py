"""F2's `I` and `X`: prompt files in and out, as `llmbench prompts import` and `export` do them
(services.prompts.files). Import is all or nothing: a refusal lists every problem with its
`file:line` in the dialog and writes nothing. What was done shows as a notification.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from llmbench.tui.screens.path_dialog import PathDialog

if TYPE_CHECKING:
    from llmbench.services.prompts.files import ImportReport
    from llmbench.tui.screens.prompts.pane import PromptsScreen

EXPORT_FOLDER = "prompts"
"""The folder offered for an export, relative to where llmbench was started."""
EVERY_PROMPT = "every prompt"
SHOWN_WARNINGS = 3


def _plural(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def import_summary(report: ImportReport) -> str:
    """The counts of an import: files, prompts created or updated, versions, labels, notes;
    then its first warnings."""
    files = report.files
    created = sum(outcome.created for outcome in files)
    updated = sum(outcome.changed and not outcome.created for outcome in files)
    lines = [
        f"{_plural(len(files), 'file')} read: {created} created, {updated} updated,"
        f" {len(files) - created - updated} unchanged",
        f"{_plural(sum(len(outcome.appended) for outcome in files), 'version')} added,"
        f" {sum(len(outcome.skipped) for outcome in files)} already saved,"
        f" {_plural(sum(len(outcome.label_moves) for outcome in files), 'label')} moved,"
        f" {_plural(sum(outcome.notes_added for outcome in files), 'note')} added",
    ]
    warnings = report.warnings
    lines += [f"warning: {warning}" for warning in warnings[:SHOWN_WARNINGS]]
    if len(warnings) > SHOWN_WARNINGS:
        lines.append(f"… and {len(warnings) - SHOWN_WARNINGS} more warnings")
    return "\n".join(lines)


def _where() -> str:
    return f"Relative paths start at {Path.cwd()}."


def import_prompt_files(pane: PromptsScreen) -> None:
    from llmbench.services.prompts.files import import_prompts

    store, author = pane.bench.store, pane.bench.reviewer or "me"

    def work(path: Path, _choice: str) -> ImportReport:
        return import_prompts(store, path, author=author)

    dialog = PathDialog(
        "Import prompt files",
        "llmbench prompt files or simonw/llm templates (.yaml): a folder or one file. All or"
        f" nothing: one bad file and nothing is written. {_where()}",
        work,
        label="File or folder",
        placeholder="prompts/",
        submit="Import",
        refusal="Import refused, nothing was written",
    )
    pane.app.push_screen(dialog, lambda report: _imported(pane, report))


def _imported(pane: PromptsScreen, report: ImportReport | None) -> None:
    if report is None:
        return
    pane.notify(import_summary(report), title="Prompts imported", timeout=8)
    pane.reload()


def export_prompt_files(pane: PromptsScreen) -> None:
    if not pane.library_rows:
        pane.notify("No prompts to export yet.", severity="warning")
        return
    from llmbench.services.prompts.files import export_prompts

    store = pane.bench.store
    highlighted = pane.prompt_history.prompt.name if pane.prompt_history else None
    only = f"only {highlighted}" if highlighted else None
    choices = [choice for choice in (only, EVERY_PROMPT) if choice is not None]

    def work(folder: Path, choice: str) -> tuple[Path, list[Path]]:
        names = [highlighted] if choice == only and highlighted else []
        return folder, export_prompts(store, folder, names)

    dialog = PathDialog(
        "Export prompt files",
        "One <name>.yaml per prompt, with its versions, labels and notes; files of the same"
        f" name are replaced. {_where()}",
        work,
        label="Folder",
        value=EXPORT_FOLDER,
        choice_label="Prompts",
        choices=choices,
        submit="Export",
        refusal="Export refused",
    )
    pane.app.push_screen(dialog, lambda done: _exported(pane, done))


def _exported(pane: PromptsScreen, done: tuple[Path, list[Path]] | None) -> None:
    if done is None:
        return
    folder, written = done
    pane.notify(f"{_plural(len(written), 'prompt')} exported to {folder.resolve()}")
