"""How a version diff reads: metadata changes first, then each section with its changed lines,
the changed words inside them highlighted; unchanged sections fold to one line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content

if TYPE_CHECKING:
    from llmbench.core.prompts.diff import LineOp, SectionDiff, Segment, VersionDiff

Part = Content | tuple[str, str] | str

REMOVED = "$text-error"
ADDED = "$text-success"
REMOVED_WORD = "bold reverse $text-error"
ADDED_WORD = "bold reverse $text-success"
SAME = "dim"


def _segments(segments: tuple[Segment, ...], word_style: str, line_style: str) -> list[Part]:
    return [(s.text, word_style if s.changed else line_style) for s in segments]


def _line(op: LineOp) -> list[Part]:
    if op.kind == "same":
        return [("  " + (op.new or ""), SAME), "\n"]
    if op.kind == "removed":
        return [("- " + (op.old or ""), REMOVED), "\n"]
    if op.kind == "added":
        return [("+ " + (op.new or ""), ADDED), "\n"]
    return [
        ("- ", REMOVED),
        *_segments(op.old_segments, REMOVED_WORD, REMOVED),
        "\n",
        ("+ ", ADDED),
        *_segments(op.new_segments, ADDED_WORD, ADDED),
        "\n",
    ]


def render_diff(prompt_name: str, diff: VersionDiff, *, context: int = 2) -> Content:
    """`context` unchanged lines are kept around each change; longer unchanged runs fold."""
    parts: list[Part] = [
        (prompt_name, "bold"),
        f"  v{diff.old_version} → v{diff.new_version}   ",
        (f"+{diff.words_added} words", ADDED),
        "  ",
        (f"−{diff.words_removed} words", REMOVED),
        "\n",
    ]
    if not diff.changed:
        parts += ["\n", ("The two versions are identical.", "italic")]
        return Content.assemble(*parts)
    if diff.metadata:
        parts += ["\n", ("SETTINGS", "bold $text-accent"), "\n"]
        for change in diff.metadata:
            parts += [(f"{change.field}: ", "bold")]
            if change.old is not None:
                parts += [(change.old, REMOVED)]
            if change.old is not None and change.new is not None:
                parts += [" → "]
            if change.new is not None:
                parts += [(change.new, ADDED)]
            parts += ["\n"]
    for section in diff.sections:
        title = section.name.upper()
        if section.status == "same":
            parts += ["\n", (f"{title} — unchanged", SAME), "\n"]
            continue
        counts = f"  {section.status}, +{section.words_added} −{section.words_removed} words"
        parts += ["\n", (title, "bold $text-accent"), (counts, "dim"), "\n"]
        changed_at = [i for i, op in enumerate(section.lines) if op.kind != "same"]
        folded = False
        for index, op in enumerate(section.lines):
            near = any(abs(index - at) <= context for at in changed_at)
            if op.kind == "same" and not near:
                if not folded:
                    parts += [("  ⋯", SAME), "\n"]
                    folded = True
                continue
            folded = False
            parts += _line(op)
    return Content.assemble(*parts)


def render_text_diff(old_title: str, new_title: str, diff: SectionDiff) -> Content:
    """Two texts (outputs of one case) line by line, the changed words inside lines marked."""
    parts: list[Part] = [
        ("- ", REMOVED),
        (old_title, f"bold {REMOVED}"),
        "\n",
        ("+ ", ADDED),
        (new_title, f"bold {ADDED}"),
        "\n",
        (f"+{diff.words_added} words  −{diff.words_removed} words", "dim"),
        "\n\n",
    ]
    if diff.status == "same":
        parts.append(("The two outputs are identical.", "italic"))
        return Content.assemble(*parts)
    for op in diff.lines:
        parts += _line(op)
    return Content.assemble(*parts)
