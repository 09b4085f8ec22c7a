"""Datasets of test cases, pushed over a pane: datasets with their case counts on the left, the
highlighted dataset's cases on the right (variables, golden answer, tags, number of checks).
One key each: add, edit and delete a case, make or delete (when empty) a dataset, import and
export a file.

Database work runs in thread workers that post messages (PaneScreen's helpers); the dialogs
check what was typed before anything is written, so a typo costs nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from llmbench.tui.format import count, one_line
from llmbench.tui.screens.base import PaneScreen
from llmbench.tui.screens.dialogs import ConfirmDialog, Field, FormDialog
from llmbench.tui.widgets.fitted_table import FittedTable
from llmbench.tui.widgets.table_cursor import highlighted_key, restore_cursor

if TYPE_CHECKING:
    from llmbench.core.models import Case
    from llmbench.services.datasets import CaseValues, ImportOutcome
    from llmbench.store.datasets import DatasetRow

MAX_PROBLEMS_SHOWN = 6
TAG_LABELS = {
    "task_type": "Task type tag",
    "difficulty": "Difficulty tag",
    "failure_mode": "Failure mode tag",
}


class DatasetsScreen(PaneScreen["list[DatasetRow]"]):
    PANE_TITLE = "Datasets"
    EMPTY_TEXT = (
        "No datasets yet.\n\n"
        "Press n to make one, or i to import a .csv (promptfoo's __expected columns) or .jsonl "
        "file. Escape goes back."
    )
    BINDINGS = [
        Binding("escape", "back", "Back", id="datasets_back"),
        Binding("a", "add_case", "Add case", id="datasets_add_case"),
        Binding("e", "edit_case", "Edit case", id="datasets_edit_case"),
        Binding("x,delete", "delete_case", "Delete case", key_display="x",
                id="datasets_delete_case"),
        Binding("n", "new_dataset", "New dataset", id="datasets_new"),
        Binding("X", "delete_dataset", "Delete dataset", key_display="X",
                id="datasets_delete_dataset"),
        Binding("i", "import_file", "Import", id="datasets_import"),
        Binding("o", "export_file", "Export", id="datasets_export"),
    ]  # fmt: skip

    DEFAULT_CSS = """
    DatasetsScreen {
        #datasets-left { width: 30; border-right: tall $primary 30%; }
        #datasets-table { height: 1fr; }
        #cases-box { width: 1fr; }
        #cases-table { height: 1fr; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, DatasetRow] = {}
        self.cases: dict[str, Case] = {}
        self._select: str | None = None
        """The dataset to put the cursor on after the next read (one just made)."""

    def compose_body(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="datasets-left"):
                yield Static("Datasets", classes="section-title")
                yield FittedTable(id="datasets-table", cursor_type="row", zebra_stripes=True)
            with Vertical(id="cases-box"):
                yield Static("", id="cases-title", classes="section-title", markup=False)
                yield FittedTable(id="cases-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:  # Textual also runs PaneScreen.on_mount (the loading timer)
        datasets = self.query_one("#datasets-table", DataTable)
        datasets.add_column("Dataset", key="name")
        datasets.add_column("Cases", key="cases")
        cases = self.query_one("#cases-table", DataTable)
        for label, key in (
            ("#", "id"),
            ("Variables", "vars"),
            ("Expected", "expected"),
            ("Checks", "checks"),
            ("Tags", "tags"),
        ):
            cases.add_column(label, key=key)

    # -- reading ---------------------------------------------------------------------------

    def fetch(self) -> list[DatasetRow]:
        from llmbench.services import datasets

        return datasets.list_datasets(self.bench.store)

    def show(self, data: list[DatasetRow]) -> None:
        self.set_empty(not data)
        table = self.query_one("#datasets-table", DataTable)
        selected = self._select or highlighted_key(table)
        self._select = None
        self.rows = {str(row.id): row for row in data}
        table.clear()
        for row in data:
            table.add_row(one_line(row.name, 22), count(row.cases), key=str(row.id))
        restore_cursor(table, selected)
        self._read_cases(highlighted_key(table))

    @property
    def dataset(self) -> DatasetRow | None:
        """The highlighted dataset."""
        key = highlighted_key(self.query_one("#datasets-table", DataTable))
        return None if key is None else self.rows.get(key)

    @property
    def case(self) -> Case | None:
        """The highlighted case of the highlighted dataset."""
        key = highlighted_key(self.query_one("#cases-table", DataTable))
        return None if key is None else self.cases.get(key)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "datasets-table":
            # Where the cursor is now, not where the event says: refilling the table queues a
            # highlight of its first row that may arrive after the cursor moved on.
            self._read_cases(highlighted_key(event.data_table))

    def _read_cases(self, key: str | None) -> None:
        title = self.query_one("#cases-title", Static)
        row = None if key is None else self.rows.get(key)
        if row is None:
            title.update("")
            self._show_cases([])
            return
        title.update(f"{row.name}: {count(row.cases)} cases  {row.description}".rstrip())
        from llmbench.services import datasets

        store = self.bench.store
        self.read_in_thread(
            lambda: datasets.dataset_cases(store, row.id), self._show_cases, group="cases"
        )

    def _show_cases(self, cases: list[Case]) -> None:
        from llmbench.services.datasets import vars_summary

        table = self.query_one("#cases-table", DataTable)
        selected = highlighted_key(table)
        self.cases = {str(case.id): case for case in cases}
        table.clear()
        for case in cases:
            table.add_row(
                str(case.id),
                one_line(vars_summary(case.vars), 38),
                one_line(case.expected, 22),
                str(len(case.checks)) if case.checks else "",
                one_line(", ".join(f"{k}={v}" for k, v in case.tags.items()), 26),
                key=str(case.id),
            )
        restore_cursor(table, selected)

    # -- cases -----------------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_add_case(self) -> None:
        dataset = self.dataset
        if dataset is None:
            self.notify("Make a dataset first (n) or import one (i).", severity="warning")
            return
        self._case_dialog(f"New case in {dataset.name}", None, dataset.id)

    def action_edit_case(self) -> None:
        case = self.case
        if case is None:
            self.notify("No case to edit: add one with a.", severity="warning")
            return
        self._case_dialog(f"Edit case #{case.id}", case, case.dataset_id)

    def _case_dialog(self, title: str, case: Case | None, dataset_id: int) -> None:
        from llmbench.services.datasets import checks_text, vars_text

        tags = case.tags if case else {}
        fields = [
            Field(
                "vars",
                "Variables: name=value; name=value — or a JSON object",
                vars_text(case.vars) if case else "",
                placeholder="ticket=I was charged twice",
            ),
            Field("expected", "Expected (golden) answer, empty for none",
                  (case.expected or "") if case else ""),
            *(Field(name, label, tags.get(name, "")) for name, label in TAG_LABELS.items()),
            Field("checks", "Checks: a JSON list, or one assertion such as icontains: refund",
                  checks_text(case.checks) if case else ""),
        ]  # fmt: skip

        def check(values: dict[str, str]) -> str | None:
            try:
                self._values(values, case)
            except ValueError as error:
                return str(error)
            return None

        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                self._save_case(self._values(values, case), case, dataset_id)

        self.app.push_screen(FormDialog(title, fields, validate=check), done)

    @staticmethod
    def _values(values: dict[str, str], case: Case | None) -> CaseValues:
        from llmbench.services import datasets

        # Tags the form does not show (description, promoted_from, ...) are kept.
        tags = {k: v for k, v in (case.tags if case else {}).items() if k not in TAG_LABELS}
        tags.update({name: values[name] for name in TAG_LABELS})
        return datasets.case_values(
            datasets.parse_vars_text(values["vars"]),
            values["expected"],
            tags,
            datasets.parse_checks_text(values["checks"]),
        )

    def _save_case(self, values: CaseValues, case: Case | None, dataset_id: int) -> None:
        from llmbench.services import datasets

        store = self.bench.store
        if case is None:
            self.act_in_thread(
                lambda: datasets.add_case(store, dataset_id, values),
                lambda case_id: self._changed(f"Case #{case_id} added."),
                what="Add case",
            )
        else:
            case_id = case.id
            self.act_in_thread(
                lambda: datasets.edit_case(store, case_id, values),
                lambda _: self._changed(f"Case #{case_id} saved."),
                what="Edit case",
            )

    def action_delete_case(self) -> None:
        case = self.case
        if case is None:
            return
        from llmbench.services import datasets

        store, case_id = self.bench.store, case.id

        def answer(yes: bool | None) -> None:
            if yes:
                self.act_in_thread(
                    lambda: datasets.delete_case(store, case_id),
                    lambda _: self._changed(f"Case #{case_id} deleted."),
                    what="Delete case",
                )

        self.app.push_screen(
            ConfirmDialog(
                "Delete case",
                f"Delete case #{case_id} ({one_line(datasets.vars_summary(case.vars), 50)})? "
                "A case that runs have results for is kept.",
                yes="Delete",
            ),
            answer,
        )

    def _changed(self, message: str) -> None:
        self.notify(message)
        self.reload()

    # -- datasets and files ----------------------------------------------------------------

    def action_new_dataset(self) -> None:
        names = {row.name for row in self.rows.values()}

        def check(values: dict[str, str]) -> str | None:
            name = values["name"].strip()
            if not name:
                return "Name the dataset."
            return f"{name!r} exists already." if name in names else None

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            from llmbench.services import datasets

            store = self.bench.store
            self.act_in_thread(
                lambda: datasets.create_dataset(store, values["name"], values["description"]),
                lambda dataset_id: self._made(dataset_id, f"Dataset {values['name'].strip()}"),
                what="New dataset",
            )

        fields = [Field("name", "Name"), Field("description", "Description (optional)")]
        self.app.push_screen(FormDialog("New dataset", fields, validate=check), done)

    def action_delete_dataset(self) -> None:
        dataset = self.dataset
        if dataset is None:
            return
        if dataset.cases:
            self.notify(
                f"{dataset.name} has {dataset.cases} cases: only an empty dataset is deleted.",
                severity="warning",
            )
            return
        from llmbench.services import datasets

        store, dataset_id, name = self.bench.store, dataset.id, dataset.name

        def answer(yes: bool | None) -> None:
            if yes:
                self.act_in_thread(
                    lambda: datasets.delete_dataset(store, dataset_id),
                    lambda _: self._changed(f"Dataset {name} deleted."),
                    what="Delete dataset",
                )

        self.app.push_screen(
            ConfirmDialog("Delete dataset", f"Delete the empty dataset {name}?", yes="Delete"),
            answer,
        )

    def _made(self, dataset_id: int, what: str) -> None:
        self._select = str(dataset_id)
        self._changed(f"{what} made.")

    def action_import_file(self) -> None:
        current = self.dataset

        def check(values: dict[str, str]) -> str | None:
            path = Path(values["path"].strip()).expanduser()
            if not values["path"].strip():
                return "Give the file's path."
            if path.suffix.lower() not in (".csv", ".jsonl"):
                return "A dataset file ends in .csv or .jsonl."
            return None if path.is_file() else f"No file at {path}."

        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                self._import(Path(values["path"].strip()).expanduser(), values["name"].strip())

        fields = [
            Field("path", "File (.csv or .jsonl)", placeholder="cases.csv"),
            Field(
                "name",
                "Into dataset (empty: the file's name; an existing one grows)",
                current.name if current else "",
            ),
        ]
        self.app.push_screen(
            FormDialog("Import cases", fields, submit="Import", validate=check), done
        )

    def _import(self, path: Path, name: str) -> None:
        from llmbench.services import datasets

        store = self.bench.store

        def act() -> ImportOutcome:
            try:
                return datasets.import_dataset(store, path, name or None)
            except datasets.DatasetFileError as error:
                shown = [str(problem) for problem in error.problems[:MAX_PROBLEMS_SHOWN]]
                more = len(error.problems) - len(shown)
                if more:
                    shown.append(f"… and {more} more (llmbench datasets import lists them all)")
                raise datasets.DatasetError("Nothing was imported:\n" + "\n".join(shown)) from None

        def imported(outcome: ImportOutcome) -> None:
            skipped = f", {outcome.skipped} already there" if outcome.skipped else ""
            self._select = str(outcome.dataset_id)
            self._changed(
                f"{outcome.added} of {outcome.read} cases added to {outcome.dataset}{skipped}."
            )

        self.act_in_thread(act, imported, what="Import")

    def action_export_file(self) -> None:
        dataset = self.dataset
        if dataset is None:
            self.notify("No dataset to export.", severity="warning")
            return

        def check(values: dict[str, str]) -> str | None:
            suffix = Path(values["path"].strip()).suffix.lower()
            return None if suffix in (".csv", ".jsonl") else "End the file name in .csv or .jsonl."

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            from llmbench.services import datasets

            store, name = self.bench.store, dataset.name
            path = Path(values["path"].strip()).expanduser()
            self.act_in_thread(
                lambda: datasets.export_dataset(store, name, path),
                lambda written: self.notify(f"{written} cases of {name} written to {path}."),
                what="Export",
            )

        fields = [Field("path", "File (.csv or .jsonl)", f"{dataset.name}.jsonl")]
        self.app.push_screen(
            FormDialog(f"Export {dataset.name}", fields, submit="Export", validate=check), done
        )
