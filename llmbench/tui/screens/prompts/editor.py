"""The prompt editor: one text area per section, the draft's settings and preview values, and
a live preview (messages, tokens per section, cost per call) beside them. Saving makes a new
version; nothing edits a saved one.

What is typed is kept as a draft in the database while typing (the app's DraftKeeper, one
draft per prompt), so quitting or a crash loses nothing: opening the editor on that prompt
again brings the draft back. Saving the version or discarding the draft deletes it."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.timer import Timer
from textual.widgets import Header, Static, TabbedContent, TabPane, TextArea

from llmbench.core.models import SECTION_NAMES
from llmbench.tui.screens.base import ActionFailed, DataRead
from llmbench.tui.screens.dialogs import ConfirmDialog, Field, FormDialog, Unsaved
from llmbench.tui.screens.pushed import PushedScreen
from llmbench.tui.widgets.pane_footer import PaneFooter
from llmbench.tui.widgets.preview_view import render_preview

if TYPE_CHECKING:
    from llmbench.core.models import PromptVersion
    from llmbench.core.prompts.preview import Preview
    from llmbench.services.prompts.library import CaseChoice, Draft
    from llmbench.tui.app import LLMBenchApp

PREVIEW_DELAY_S = 0.15
COMPARE_CASES = 10
TAB_TITLES = {
    "role": "Role",
    "task": "Task",
    "format": "Format",
    "examples": "Examples",
    "safety": "Safety",
    "freeform": "Free-form",
    "settings": "Settings",
    "values": "Values",
}
TABS = (*SECTION_NAMES, "settings", "values")
LANGUAGES = {**{name: "markdown" for name in SECTION_NAMES}, "settings": "yaml", "values": "yaml"}
FIRST_TAB = "task"
CACHED_MARK = " ◆"
"""After the title of a section marked cacheable (ctrl+t): sent first, for the prompt cache."""
KEPT_MARKS = "cacheable"
"""The kept draft's entry beside the tabs' texts: the marked sections, comma-separated."""


class EditorScreen(PushedScreen["PromptVersion | None"]):
    BINDINGS = [
        Binding("ctrl+s", "save", "Save version", id="editor_save"),
        Binding("escape", "close", "Close", id="editor_close"),
        Binding("ctrl+n", "next_case", "Next case", id="editor_next_case"),
        Binding("ctrl+r", "compare", "Compare vs production", id="editor_compare"),
        Binding("ctrl+t", "toggle_cache", "Cache section", id="editor_cache_section"),
        # Sections are reached while typing: no key below is one a text area takes.
        Binding("ctrl+pagedown,alt+down", "tab(1)", "Next section", id="editor_next_tab"),
        Binding(
            "ctrl+pageup,alt+up", "tab(-1)", "Previous section", show=False,
            id="editor_previous_tab",
        ),
        *(
            Binding(
                f"alt+{number}", f"section({number - 1})", f"{TAB_TITLES[name]} section",
                show=number == 1, key_display=f"alt+1…{len(TABS)}" if number == 1 else None,
                id=f"editor_section_{number}",
            )
            for number, name in enumerate(TABS, start=1)
        ),
    ]  # fmt: skip
    DEFAULT_CSS = """
    EditorScreen {
        #editor-tabs { width: 3fr; }
        #editor-tabs TextArea { height: 1fr; border: none; }
        #editor-preview { width: 2fr; border-left: tall $primary 30%; padding: 0 1; }
    }
    """

    def __init__(
        self,
        prompt_id: int,
        prompt_name: str,
        base: PromptVersion | None,
        *,
        kept: dict[str, str] | None = None,
    ) -> None:
        """`kept`: the texts of a draft kept from an earlier session (tab name -> text), shown
        instead of the base version's."""
        super().__init__()
        from llmbench.services.drafts import editor_key
        from llmbench.services.prompts.library import Draft

        self.prompt_id = prompt_id
        self.prompt_name = prompt_name
        self.base = base
        self.draft: Draft = Draft.of(base) if base else Draft({"task": ""})
        self.kept = kept
        marks = kept[KEPT_MARKS].split(",") if kept and KEPT_MARKS in kept else self.draft.cacheable
        self.cacheable: tuple[str, ...] = tuple(name for name in marks if name in SECTION_NAMES)
        self.draft_key = editor_key(prompt_id)
        self.dirty = kept is not None
        self.cases: list[CaseChoice] | None = None
        self.case_index = -1
        self._preview_timer: Timer | None = None
        self._plain = set(TABS) - {FIRST_TAB}
        """Tabs not shown yet, whose text is not highlighted yet (`_highlight`)."""
        origin = f"draft from v{base.version}" if base else "first version"
        self.title = f"Edit {prompt_name} — {origin}" + (" (kept draft)" if kept else "")

    @property
    def bench(self) -> LLMBenchApp:
        return cast("LLMBenchApp", self.app)

    def compose(self) -> ComposeResult:
        from llmbench.services.prompts.draft_text import settings_text, values_text

        draft = self.draft
        kept = self.kept or {}
        yield Header()
        with Horizontal():
            with TabbedContent(id="editor-tabs", initial=f"tab-{FIRST_TAB}"):
                for name in SECTION_NAMES:
                    with TabPane(self._tab_title(name), id=f"tab-{name}"):
                        yield TextArea(
                            kept.get(name, draft.sections.get(name, "")),
                            language=self._language_at_first(name),
                            soft_wrap=True,
                            id=f"text-{name}",
                        )
                with TabPane(TAB_TITLES["settings"], id="tab-settings"):
                    yield TextArea(
                        kept.get("settings") or settings_text(
                            draft.model, draft.params, draft.variables, draft.few_shot_k,
                            draft.examples,
                        ),
                        language=self._language_at_first("settings"),
                        id="text-settings",
                    )  # fmt: skip
                with TabPane(TAB_TITLES["values"], id="tab-values"):
                    yield TextArea(
                        kept.get("values", values_text({})),
                        language=self._language_at_first("values"),
                        id="text-values",
                    )
            with VerticalScroll(id="editor-preview"):
                yield Static("", id="preview-text")
        yield PaneFooter()

    def _language_at_first(self, name: str) -> str | None:
        return LANGUAGES[name] if name not in self._plain else None

    def _highlight(self, name: str) -> None:
        """A tab's text gets its syntax highlighting as the tab is first shown. Parsing the
        hidden ones as the editor opened (tree-sitter's query for YAML alone ~10 ms a text
        area, each parsed twice) was most of the opening's work (issue 23)."""
        if name not in self._plain:
            return
        self._plain.discard(name)
        area = self.query_one(f"#text-{name}", TextArea)
        selection = area.selection  # a new document puts the cursor at the start
        area.language = LANGUAGES[name]
        area.selection = selection

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self._highlight(str(event.pane.id).removeprefix("tab-"))

    def on_mount(self) -> None:
        self.query_one("#editor-tabs", TabbedContent).active = f"tab-{FIRST_TAB}"
        self.query_one(f"#text-{FIRST_TAB}", TextArea).focus()
        self.bench.hold_work(self)
        if self.kept is not None:
            self.notify(
                "Your unsaved draft is back: ctrl+s saves it as a version, escape discards it.",
                title=f"Draft of {self.prompt_name}",
            )
        self._load_cases()
        self._refresh_preview()

    def on_unmount(self) -> None:
        self.bench.release_work(self)

    # -- the draft kept in the database ------------------------------------------------------

    def typed(self) -> dict[str, str]:
        """Every tab's text as typed, and the sections marked cacheable: what the kept draft
        holds."""
        return {name: self.text(name) for name in TABS} | {KEPT_MARKS: ",".join(self.cacheable)}

    def keep_drafts(self) -> None:
        if self.dirty:
            self._keep()
            self.bench.drafts.flush(self.draft_key)

    def discard_drafts(self) -> None:
        self.bench.drafts.discard(self.draft_key)

    def unsaved_work(self) -> list[Unsaved]:
        return [Unsaved(f"the editor's draft of {self.prompt_name}")] if self.dirty else []

    def _keep(self) -> None:
        base = self.base
        self.bench.drafts.put(
            self.draft_key,
            "editor",
            {
                "base_version_id": base.id if base else None,
                "base_version": base.version if base else None,
                "texts": self.typed(),
            },
        )

    # -- the draft -----------------------------------------------------------------------------

    def text(self, name: str) -> str:
        return self.query_one(f"#text-{name}", TextArea).text

    def read_draft(self) -> tuple[Draft, dict[str, object]]:
        """The draft and preview values as typed; DraftTextError says what does not parse."""
        from llmbench.services.prompts.draft_text import parse_settings, parse_values
        from llmbench.services.prompts.library import Draft

        settings = parse_settings(self.text("settings"))
        draft = Draft(
            sections={name: self.text(name) for name in SECTION_NAMES},
            variables=settings.variables,
            model=settings.model,
            params=dict(settings.params or {}),
            examples=settings.examples,
            few_shot_k=settings.few_shot_k,
            cacheable=self.cacheable,
        )
        return draft, parse_values(self.text("values"))

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if event.text_area.id != "text-values":
            self.dirty = True
        if self.dirty:
            self._keep()  # written once typing pauses, by the writer thread
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(PREVIEW_DELAY_S, self._refresh_preview)

    def _refresh_preview(self) -> None:
        from llmbench.services.prompts.draft_text import DraftTextError
        from llmbench.services.prompts.library import preview_draft

        try:
            draft, values = self.read_draft()
        except DraftTextError as error:
            self._show_preview((None, str(error)))
            return
        store, settings = self.bench.store, self.bench.settings
        default_model = settings.models.default_models[0]

        def work() -> None:
            from llmbench.services.evaluation.similarity import embedder_for

            embed = embedder_for(settings) if draft.few_shot_k and draft.examples else None
            try:
                result = preview_draft(
                    store, draft, values, default_model=default_model, embed=embed
                )
            except Exception as error:  # the preview must never take the editor down
                self.post_message(DataRead(self._show_preview, (None, str(error))))
                return
            self.post_message(DataRead(self._show_preview, (result, None)))

        self.run_worker(work, thread=True, exclusive=True, group="preview", name="preview")

    def _show_preview(self, shown: tuple[Preview | None, str | None]) -> None:
        preview, problem = shown
        self.preview = preview
        self.query_one("#preview-text", Static).update(render_preview(preview, problem))

    def on_data_read(self, message: DataRead) -> None:
        message.apply(message.payload)

    def on_action_failed(self, message: ActionFailed) -> None:
        self.notify(message.error, title=f"{message.what}: not done", severity="error")

    # -- test cases ----------------------------------------------------------------------------

    def _load_cases(self) -> None:
        from llmbench.services.prompts.library import cases_for

        names = [variable.name for variable in self.draft.variables]
        store = self.bench.store

        def work() -> None:
            self.post_message(DataRead(self._cases_loaded, cases_for(store, names)))

        self.run_worker(work, thread=True, group="cases", name="cases")

    def _cases_loaded(self, cases: list[CaseChoice]) -> None:
        from llmbench.services.prompts.draft_text import DraftTextError, parse_values

        self.cases = cases
        try:
            typed = parse_values(self.text("values"))
        except DraftTextError:
            typed = {"": ""}  # something half-typed: leave it alone
        if cases and not typed:
            self.action_next_case(quiet=True)

    def action_next_case(self, quiet: bool = False) -> None:
        from llmbench.services.prompts.draft_text import values_text

        if not self.cases:
            if not quiet:
                self.notify("No test case fills this prompt's variables: type values instead.")
            return
        self.case_index = (self.case_index + 1) % len(self.cases)
        case = self.cases[self.case_index]
        self.query_one("#text-values", TextArea).text = values_text(case.vars)
        if not quiet:
            position = f"{self.case_index + 1}/{len(self.cases)}"
            self.notify(f"Case {case.id} of {case.dataset} ({position})")

    # -- keys ----------------------------------------------------------------------------------

    def action_tab(self, step: int) -> None:
        tabs = self.query_one("#editor-tabs", TabbedContent)
        current = TABS.index(str(tabs.active).removeprefix("tab-"))
        self.action_section((current + step) % len(TABS))

    def action_section(self, index: int) -> None:
        """alt+1…alt+8: straight to a section (then Settings, Values), the cursor in its text."""
        name = TABS[index]
        self._highlight(name)  # before its first key, not when the tab's message comes
        self.query_one("#editor-tabs", TabbedContent).active = f"tab-{name}"
        self.query_one(f"#text-{name}", TextArea).focus()

    def _tab_title(self, name: str) -> str:
        return TAB_TITLES[name] + (CACHED_MARK if name in self.cacheable else "")

    def action_toggle_cache(self) -> None:
        """ctrl+t: mark the current section cacheable (sent first, in a block the provider
        caches), or unmark it. The mark is saved with the next version, like its text."""
        from llmbench.core.prompts.caching import cache_notes, toggled

        tabs = self.query_one("#editor-tabs", TabbedContent)
        name = str(tabs.active).removeprefix("tab-")
        if name not in SECTION_NAMES:
            self.notify("Go to a section (alt+1…6) to mark it cacheable.")
            return
        self.cacheable = toggled(self.cacheable, name)
        tabs.get_tab(f"tab-{name}").label = self._tab_title(name)
        self.dirty = True
        self._keep()
        if name not in self.cacheable:
            self.notify(f"{TAB_TITLES[name]}: no longer cached.")
            return
        sections = {section: self.text(section) for section in SECTION_NAMES}
        notes = cache_notes({name: sections[name]}, (name,), self._chooses_examples())
        self.notify(
            "\n".join(
                [f"{TAB_TITLES[name]}: cached — sent first, marked for the provider's cache.",
                 *notes]
            ),
            severity="warning" if notes else "information",
        )  # fmt: skip

    def _chooses_examples(self) -> bool:
        from llmbench.services.prompts.draft_text import DraftTextError, parse_settings

        try:
            return parse_settings(self.text("settings")).few_shot_k is not None
        except DraftTextError:
            return False

    def action_save(self) -> None:
        from llmbench.services.prompts.draft_text import DraftTextError

        try:
            self.read_draft()
        except DraftTextError as error:
            self.notify(str(error), title="Cannot save", severity="error")
            return
        fields = [Field("message", "What does this version change, and why?")]
        origin = f" (from v{self.base.version})" if self.base else ""
        self.app.push_screen(
            FormDialog(
                f"Save {self.prompt_name}{origin}",
                fields,
                validate=lambda v: None if v["message"].strip() else "A message is required.",
            ),
            self._save,
        )

    def _save(self, values: dict[str, str] | None) -> None:
        if values is None:
            return
        from llmbench.services.prompts.library import save_version

        draft, _ = self.read_draft()
        store, author = self.bench.store, self.bench.reviewer or "me"
        prompt_id, parent = self.prompt_id, self.base.id if self.base else None

        def work() -> None:
            try:
                saved = save_version(
                    store, prompt_id, draft, author=author, message=values["message"],
                    parent_id=parent,
                )  # fmt: skip
            except Exception as error:  # refused (nothing changed, bad syntax) or failed
                self.post_message(ActionFailed("Save", str(error)))
                return
            self.post_message(DataRead(self._saved, saved))

        self.run_worker(work, thread=True, group="save", name="save")

    def _saved(self, saved: PromptVersion) -> None:
        self.dirty = False
        self.bench.drafts.discard(self.draft_key)  # the version holds it now
        self.dismiss(saved)

    def action_compare(self) -> None:
        """Run the draft against the production version (else the version being edited) on up
        to COMPARE_CASES test cases — or on the typed values — in Compare, at once: the run
        streams there, the draft stays here (F2 comes back to it)."""
        from llmbench.services.prompts.draft_text import DraftTextError

        try:
            draft, values = self.read_draft()
        except DraftTextError as error:
            self.notify(str(error), title="Cannot compare", severity="error")
            return
        if self.cases:
            cases = [(case.id, case.vars) for case in self.cases[:COMPARE_CASES]]
        else:
            cases = [(None, values)]
        store, settings = self.bench.store, self.bench.settings
        prompt_id, fallback = self.prompt_id, self.base

        def work() -> None:
            from llmbench.services.compare.draft_run import create_draft_comparison
            from llmbench.services.prompts.library import labelled_version

            try:
                baseline = labelled_version(store, prompt_id, "production") or fallback
                if baseline is None:
                    raise ValueError("nothing to compare with: save a first version")
                run_id = create_draft_comparison(
                    store, settings, prompt_id, draft, baseline_version_id=baseline.id,
                    cases=cases,
                )  # fmt: skip
            except Exception as error:  # refused: say so, keep the draft
                self.post_message(ActionFailed("Compare", str(error)))
                return
            self.post_message(DataRead(self._open_run, run_id))

        self.run_worker(work, thread=True, group="compare", name="compare draft")

    def _open_run(self, run_id: int) -> None:
        from llmbench.tui.screens.compare.run import RunScreen

        self.app.switch_mode("compare")
        self.app.push_screen(RunScreen(run_id, start=True))

    def action_close(self) -> None:
        if not self.dirty:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dirty = False
                self.discard_drafts()
                self.dismiss(None)

        self.app.push_screen(
            ConfirmDialog(
                "Discard the draft?",
                "Your changes are not saved as a version. Discard deletes the kept draft too "
                "(to keep it, switch panes or quit instead: it comes back when you press e).",
                yes="Discard",
            ),
            answered,
        )
