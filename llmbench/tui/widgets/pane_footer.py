"""Textual's Footer, without restyling every key twice each time it is rebuilt.

The footer rebuilds its keys whenever the focused widget's bindings change (every pane switch,
every focus move). A new FooterKey starts compact and is then bound to the footer's (not
compact) style, and each of the two changes restyles the key and its children at once: about
half of a pane switch's time on a busy screen. Setting each key's style before it is mounted
leaves nothing to restyle; the footer looks exactly the same.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class PaneFooter(Footer):
    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                # The palette key is not bound to the footer's style: it keeps its own
                # (compact) one, which its class now says from the start.
                compact = True if widget.has_class("-command-palette") else self.compact
                widget.set_reactive(FooterKey.compact, compact)
                widget.set_class(compact, "-compact", update=False)
            yield widget
