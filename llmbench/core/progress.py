"""The last progress a long job reported, kept to be sent along with its next piece of work: a
second process (an import's reader, the demo's drawer) reports to its parent that way rather
than on every step."""

from __future__ import annotations


class LatestProgress:
    """A progress callback that keeps only the last (done, total) it was given."""

    def __init__(self) -> None:
        self.seen = (0, 0)

    def __call__(self, done: int, total: int) -> None:
        self.seen = (done, total)
