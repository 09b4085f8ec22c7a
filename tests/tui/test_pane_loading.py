"""What is imported in a thread once the first pane's data is on screen: every pane's modules,
their services and what their screens open with (each a module that exists: a renamed one
would fail here, not in the user's background thread), then frozen, once per process."""

from __future__ import annotations

import importlib.util

import pytest

from llmbench.tui import pane_loading
from llmbench.tui.app import PANES


def test_every_module_named_exists() -> None:
    names = (*pane_loading.PANE_SERVICES, *pane_loading.OPENED_MODULES)
    assert len(set(names)) == len(names)
    missing = [name for name in names if importlib.util.find_spec(name) is None]
    assert missing == []


def test_import_panes_imports_pausing_before_each_then_freezes_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frozen: list[int] = []
    monkeypatch.setattr(pane_loading.gc, "freeze", lambda: frozen.append(1))
    monkeypatch.setattr(pane_loading, "_frozen", False)
    pauses: list[int] = []
    stills: list[int] = []
    pane_loading.import_panes(PANES, lambda: pauses.append(1), lambda: stills.append(1))
    expected = len(PANES) + len(pane_loading.PANE_SERVICES) + len(pane_loading.OPENED_MODULES)
    assert len(pauses) == expected
    assert len(stills) == len(pane_loading.OPENED_MODULES)  # what screens open with: when still
    assert frozen == [1]
    pane_loading.import_panes(PANES)
    assert frozen == [1]  # a second app in this process: what it loads is loaded already
