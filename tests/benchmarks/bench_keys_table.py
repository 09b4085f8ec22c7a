"""bench_keys.py's data: its scenes (how each pane and screen is reached), the keys F1 lists in
each (tests/tui/test_bench_keys_coverage.py fails when F1 and this table differ), where each
global key is timed, which keys are grading keys, and the keys not timed, each with why."""

from __future__ import annotations

from tests.benchmarks.bench_keys_scenes import Scene


def _ids(text: str) -> tuple[str, ...]:
    """Binding ids, space-separated."""
    return tuple(text.split())


def _widget(scope: str, descriptions: str) -> tuple[str, ...]:
    """Keys without a binding id (the screen's and Textual's widgets'), as F1 describes them,
    separated by "; "."""
    return tuple(f"{scope}:{description}" for description in descriptions.split("; "))


SCENES: dict[str, Scene] = {
    "library": Scene("f2"),
    "library_search": Scene("f2", ("slash",)),
    "diff": Scene("f2", ("d",)),
    "editor": Scene("f2", ("e",)),
    "guard_dialog": Scene("f2", ("G",)),
    "new_prompt": Scene("f2", ("n",)),
    "compare": Scene("f3"),
    "compare_run": Scene("f3", ("enter",)),
    "output_diff": Scene("f3", ("enter", "d")),
    "report": Scene("f3", ("m",)),
    "new_run": Scene("f3", ("n",)),
    "datasets": Scene("f3", ("D",)),
    "eval_suite": Scene("f3", ("E",)),
    "grade": Scene("f4"),
    "grading_normal": Scene("f4", ("g",)),
    "grading_blind": Scene("f4", ("b",)),
    "grading_pairwise": Scene("f4", ("p",)),
    "anchors": Scene("f4", ("g", "question_mark")),
    "agreement": Scene("f4", ("a",)),
    "queue_options": Scene("f4", ("o",)),
    "costs": Scene("f5"),
    "costs_trends": Scene("f5", ("t",)),
    "costs_alerts": Scene("f5", ("a",)),
    "costs_savings": Scene("f5", ("s",)),
    "optimize": Scene("f5", ("s", "o")),
    "audit": Scene("f6"),
    "audit_detail": Scene("f6", ("enter",)),
    "audit_thread": Scene("f6", ("h",)),
    "audit_columns": Scene("f6", ("c",)),
    "audit_import": Scene("f6", ("i",)),
    "audit_query": Scene("f6", ("slash",)),
    "monitor": Scene("f7"),
    "models": Scene("f8"),
    "routes": Scene("f8", ("R",)),
    "key_dialog": Scene("f8", ("K",)),
    "price_form": Scene("f8", ("p",)),
    "help": Scene("f2", ("f1",)),
    "jump": Scene("f2", ("ctrl+o",)),
    "quit_dialog": Scene("f2", ("e", "x", "ctrl+q")),
}

# The screen's own keys and Textual's keys of the widgets focused in the scenes (no binding
# ids).
_SCREEN = _widget("pane", "Focus Next; Focus Previous; Copy selected text")
_VIRTUAL_TABLE = _widget("VirtualTable", "Scroll Left; Scroll Right; Page Left; Page Right")
_SCREEN_2 = _widget("pane", "Focus Next; Focus Previous")
_INPUT = _widget(
    "Input",
    "Scroll Up; Scroll Down; Move cursor left; Move cursor right or accept the "
    "completion suggestion; Go to start; Go to end; Page Up; Page Down; Page Left; "
    "Page Right; Move cursor left and select; Move cursor left a word; Move cursor "
    "left a word and select; Move cursor right and select; Move cursor right a "
    "word; Move cursor right a word and select; Delete character left; Select all; "
    "Select line start; Select line end; Delete character right; Submit; Delete "
    "left to start of word; Delete all to the left; Delete right to start of word; "
    "Delete all to the right; Cut selected text; Copy selected text; Paste text "
    "from the clipboard",
)
_VERTICAL_SCROLL = _widget(
    "VerticalScroll",
    "Scroll Up; Scroll Down; Scroll Left; Scroll Right; Scroll Home; Scroll End; "
    "Page Up; Page Down; Page Left; Page Right",
)
_TEXT_AREA = _widget(
    "TextArea",
    "Cursor up; Cursor down; Cursor left; Cursor right; Cursor line start; Cursor "
    "line end; Cursor page up; Cursor page down; Page Left; Page Right; Cursor word "
    "left; Cursor word right; Cursor left word select; Cursor right word select; "
    "Cursor line start select; Cursor line end select; Cursor up select; Cursor "
    "down select; Cursor left select; Cursor right select; Delete character left; "
    "Delete left to start of word; Delete character right; Delete right to start of "
    "word; Cut; Copy; Paste; Delete to line start; Delete to line end; Delete line; "
    "Undo; Redo",
)
_FOLDING_TABLE = _widget(
    "FoldingTable",
    "Cursor up; Cursor down; Cursor left; Cursor right; Home; End; Page up; Page "
    "down; Page Left; Page Right; Select; Top; Bottom",
)
_SCREEN_3 = _widget("pane", "Focus Previous; Copy selected text")
_SELECTION_LIST = _widget(
    "SelectionList",
    "Up; Down; Scroll Left; Scroll Right; First; Last; Page Up; Page Down; Page "
    "Left; Page Right; Select; Toggle option",
)
_FITTED_TABLE = _widget(
    "FittedTable",
    "Cursor up; Cursor down; Cursor left; Cursor right; Home; End; Page up; Page "
    "down; Page Left; Page Right; Select; Top; Bottom",
)
_SCREEN_4 = _widget("pane", "Copy selected text")
_SELECT = _widget("Select", "Show menu")
_FITTED_TABLE_2 = _widget(
    "FittedTable",
    "Cursor up; Cursor down; Cursor left; Cursor right; Home; End; Page up; Page "
    "down; Page Left; Page Right; Top; Bottom",
)
_DATA_TABLE = _widget(
    "DataTable",
    "Cursor up; Cursor down; Cursor left; Cursor right; Home; End; Page up; Page "
    "down; Page Left; Page Right; Top; Bottom",
)
_OPTION_LIST = _widget(
    "OptionList",
    "Up; Down; Scroll Left; Scroll Right; First; Last; Page Up; Page Down; Page "
    "Left; Page Right; Select",
)
_SELECTION_LIST_2 = _widget(
    "SelectionList",
    "Up; Down; Scroll Left; Scroll Right; First; Last; Page Up; Page Down; Page "
    "Left; Page Right; Toggle option",
)
_MODEL_TABLE = _widget("ModelTable", "Scroll Left; Scroll Right; Page Left; Page Right")
_BUTTON = _widget("Button", "Press button")

# What F1 lists in each scene (`bench_keys.py --list` prints it), the global keys apart.
KEY_TABLE: dict[str, tuple[str, ...]] = {
    "library": (
        *_SCREEN,
        *_ids(
            "refresh prompts_search prompt_new prompt_edit prompt_diff prompt_mark "
            "prompt_promote prompt_label prompt_note prompt_guard prompts_import "
            "prompts_export table_up table_down table_first table_last table_page_up "
            "table_page_down table_select"
        ),
        *_VIRTUAL_TABLE,
    ),
    "library_search": (
        *_SCREEN_2,
        *_ids("prompts_search"),
        *_INPUT,
    ),
    "diff": (
        *_SCREEN,
        *_ids("diff_close diff_context"),
        *_VERTICAL_SCROLL,
    ),
    "editor": (
        *_SCREEN_2,
        *_ids(
            "editor_save editor_close editor_next_case editor_compare editor_cache_section "
            "editor_next_tab editor_previous_tab editor_section_1 editor_section_2 "
            "editor_section_3 editor_section_4 editor_section_5 editor_section_6 "
            "editor_section_7 editor_section_8"
        ),
        *_TEXT_AREA,
    ),
    "guard_dialog": (
        *_SCREEN_2,
        *_ids("guard_cancel guard_save guard_use_config"),
        *_INPUT,
    ),
    "new_prompt": (
        *_ids("form_next_field form_previous_field form_cancel form_submit"),
        *_INPUT,
    ),
    "compare": (
        *_SCREEN,
        *_ids("refresh compare_new compare_report compare_datasets compare_eval_suite"),
        *_FOLDING_TABLE,
    ),
    "compare_run": (
        *_SCREEN,
        *_ids(
            "run_escape run_toggle_view run_next_case run_previous_case run_columns_right "
            "run_columns_left run_diff run_resume run_report run_promote"
        ),
        *_VERTICAL_SCROLL,
    ),
    "output_diff": (
        *_SCREEN_3,
        *_ids("output_diff_next output_diff_close output_diff_swap"),
        *_VERTICAL_SCROLL,
    ),
    "report": (
        *_SCREEN_3,
        *_ids("report_next report_close report_baseline"),
        *_VERTICAL_SCROLL,
    ),
    "new_run": (
        *_SCREEN,
        *_ids("new_run_cancel new_run_start"),
        *_SELECTION_LIST,
    ),
    "datasets": (
        *_SCREEN,
        *_ids(
            "refresh datasets_back datasets_add_case datasets_edit_case datasets_delete_case "
            "datasets_new datasets_delete_dataset datasets_import datasets_export"
        ),
        *_FITTED_TABLE,
    ),
    "eval_suite": (
        *_SCREEN_2,
        *_ids("path_cancel path_submit"),
        *_INPUT,
    ),
    "grade": (
        *_SCREEN,
        *_ids(
            "refresh grade_start grade_start_blind grade_start_pairwise grade_agreement "
            "grade_disagreements grade_queue_options grade_new_rubric"
        ),
        *_FITTED_TABLE,
    ),
    "grading_normal": (
        *_SCREEN_4,
        *_ids(
            "grade_next_dimension grade_previous_dimension grade_level_1 grade_level_2 "
            "grade_level_3 grade_level_4 grade_level_5 grade_level_6 grade_level_7 "
            "grade_level_8 grade_level_9 grade_level_0 grade_pass grade_fail "
            "grade_prefer_left grade_prefer_right grade_prefer_tie grade_skip grade_undo "
            "grade_note grade_next_item grade_previous_item grade_anchors grade_back"
        ),
        *_VERTICAL_SCROLL,
    ),
    "grading_blind": (
        *_SCREEN_4,
        *_ids(
            "grade_next_dimension grade_previous_dimension grade_level_1 grade_level_2 "
            "grade_level_3 grade_level_4 grade_level_5 grade_level_6 grade_level_7 "
            "grade_level_8 grade_level_9 grade_level_0 grade_pass grade_fail "
            "grade_prefer_left grade_prefer_right grade_prefer_tie grade_skip grade_undo "
            "grade_note grade_next_item grade_previous_item grade_anchors grade_back"
        ),
        *_VERTICAL_SCROLL,
    ),
    "grading_pairwise": (
        *_SCREEN_4,
        *_ids(
            "grade_next_dimension grade_previous_dimension grade_level_1 grade_level_2 "
            "grade_level_3 grade_level_4 grade_level_5 grade_level_6 grade_level_7 "
            "grade_level_8 grade_level_9 grade_level_0 grade_pass grade_fail "
            "grade_prefer_left grade_prefer_right grade_prefer_tie grade_skip grade_undo "
            "grade_note grade_next_item grade_previous_item grade_anchors grade_back"
        ),
        *_VERTICAL_SCROLL,
    ),
    "anchors": (
        *_SCREEN,
        *_ids("anchors_close"),
        *_VERTICAL_SCROLL,
    ),
    "agreement": (
        *_SCREEN,
        *_ids("agreement_disagreements agreement_back"),
        *_VERTICAL_SCROLL,
    ),
    "queue_options": (
        *_SCREEN_4,
        *_ids("form_next_field form_previous_field form_cancel form_submit"),
        *_SELECT,
    ),
    "costs": (
        *_SCREEN,
        *_ids(
            "costs_drill_down refresh costs_view_breakdown budget_delete costs_view_trends "
            "costs_view_alerts costs_view_savings costs_group_next costs_group_previous "
            "costs_window costs_fold costs_stack_by costs_reprice costs_acknowledge "
            "costs_check costs_up costs_filter costs_open_calls"
        ),
        *_FITTED_TABLE_2,
    ),
    "costs_trends": (
        *_SCREEN,
        *_ids(
            "refresh costs_view_breakdown budget_delete costs_view_trends costs_view_alerts "
            "costs_view_savings costs_group_next costs_group_previous costs_window costs_fold "
            "costs_stack_by costs_reprice costs_acknowledge costs_check costs_drill_down "
            "costs_up costs_filter"
        ),
    ),
    "costs_alerts": (
        *_SCREEN,
        *_ids(
            "costs_drill_down refresh budget_new budget_delete costs_view_trends "
            "costs_view_alerts costs_view_savings costs_group_next costs_group_previous "
            "costs_window costs_fold costs_stack_by costs_reprice costs_acknowledge "
            "costs_check costs_up costs_filter"
        ),
        *_FITTED_TABLE_2,
    ),
    "costs_savings": (
        *_SCREEN,
        *_ids(
            "costs_drill_down refresh costs_view_breakdown budget_delete costs_view_trends "
            "costs_view_alerts costs_view_savings costs_group_next costs_group_previous "
            "costs_window costs_fold costs_stack_by costs_reprice costs_acknowledge "
            "costs_check costs_up costs_filter costs_optimize"
        ),
        *_FITTED_TABLE_2,
    ),
    "optimize": (
        *_SCREEN,
        *_ids("optimize_test refresh optimize_promote optimize_back"),
        *_DATA_TABLE,
    ),
    "audit": (
        *_SCREEN,
        *_ids(
            "refresh audit_filter audit_jump audit_columns audit_export audit_import "
            "audit_thread log_up log_down log_page_up log_page_down log_start log_end "
            "log_open"
        ),
    ),
    "audit_detail": (
        *_SCREEN,
        *_ids(
            "detail_close detail_copy_request detail_copy_response detail_promote "
            "detail_open_version detail_next_attempt"
        ),
        *_VERTICAL_SCROLL,
    ),
    "audit_thread": (
        *_SCREEN,
        *_ids("thread_close thread_filter"),
        *_OPTION_LIST,
    ),
    "audit_columns": (
        *_SCREEN,
        *_ids("columns_keep columns_cancel"),
        *_SELECTION_LIST_2,
    ),
    "audit_import": (
        *_ids("import_next_field import_previous_field import_close import_start"),
        *_INPUT,
    ),
    "audit_query": (
        *_SCREEN_2,
        *_ids("audit_filter"),
        *_INPUT,
    ),
    "monitor": (
        *_SCREEN,
        *_ids(
            "refresh retention_purge audit_verify monitor_window_1h monitor_window_24h "
            "monitor_window_7d monitor_window_30d monitor_ack monitor_check"
        ),
        *_FOLDING_TABLE,
    ),
    "models": (
        *_SCREEN,
        *_ids(
            "refresh routes_view price_set key_set table_up table_down table_first table_last "
            "table_page_up table_page_down table_select"
        ),
        *_MODEL_TABLE,
    ),
    "routes": (
        *_SCREEN,
        *_ids("refresh routes_add routes_edit routes_delete routes_close"),
    ),
    "key_dialog": (
        *_SCREEN,
        *_ids("key_cancel"),
        *_BUTTON,
    ),
    "price_form": (
        *_ids("form_next_field form_previous_field form_cancel form_submit"),
        *_INPUT,
    ),
    "help": (
        *_SCREEN,
        *_ids("close_help close_help_f1"),
        *_FITTED_TABLE,
    ),
    "jump": (
        *_SCREEN,
        *_ids("jump_leave"),
    ),
    "quit_dialog": (
        *_SCREEN,
        *_ids("quit_keep quit_discard quit_cancel"),
        *_BUTTON,
    ),
}

# F1's global keys (every scene lists them), each timed once, in this scene.
GLOBAL_KEYS: dict[str, str] = {
    "quit": "library",
    "help": "library",
    "show_prompts": "compare",
    "show_compare": "library",
    "show_grade": "library",
    "show_costs": "library",
    "show_audit": "library",
    "show_monitor": "library",
    "show_models": "library",
    "jump": "library",
    "command_palette": "library",
}

_GRADING = (
    *(f"grade_level_{digit}" for digit in range(10)),
    "grade_pass",
    "grade_fail",
    "grade_prefer_left",
    "grade_prefer_right",
    "grade_prefer_tie",
    "grade_next_item",
    "grade_previous_item",
    "grade_undo",
)
# The keys a reviewer presses thousands of times: their goal is 33 ms p95, not 50.
GRADING_KEYS: dict[str, tuple[str, ...]] = {
    name: _GRADING for name in ("grading_normal", "grading_blind", "grading_pairwise")
}

_QUITS = "quits the app (the harness would end with it)"
# Keys listed by F1 but not timed, with why.
SKIPPED: dict[tuple[str, str], str] = {
    (
        "library",
        "quit",
    ): "quits the app when nothing is unsaved; its dialog is timed as quit_dialog",
    ("quit_dialog", "quit_keep"): _QUITS,
    ("quit_dialog", "quit_discard"): _QUITS,
    ("quit_dialog", "Button:Press button"): _QUITS + ": the focused button is Keep and quit",
}
