"""Writing an export file (calls, datasets, grades, run reports) safely.

An export holds what the database holds (prompts, answers, personal data), so it is as private
as the database: a file it creates is 0600 whatever the umask. It never replaces what stands at
the path given:

- a regular file, or nothing yet: written to a temporary file beside it (0600), synced, then
  renamed over it, so a failed or cancelled export leaves the old file (or none) and no part;
- a symbolic link: followed, and the file it points to is replaced as above; the link stays;
- a FIFO or a character device (/dev/null, a terminal), or a file named through a descriptor
  (/dev/stdout, /dev/fd/N, /proc/self/fd/N): written through, as a shell's `>` would; nothing
  is created, renamed or chmod-ed;
- a folder, a socket or a block device: refused with ExportTargetRefused (an OSError whose
  strerror says what to give instead).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

EXPORT_MODE = 0o600


class ExportTargetRefused(OSError):
    """The path names something an export must not write into."""

    def __str__(self) -> str:  # what the TUI shows: one line, no errno
        return f"cannot write {self.filename}: {self.strerror}"


def _refusal(path: Path, kind: str, code: int) -> ExportTargetRefused:
    return ExportTargetRefused(code, f"it is {kind}, not a file: give a file name", str(path))


def _writes_through(path: Path, found: os.stat_result) -> bool:
    mode = found.st_mode
    if stat.S_ISDIR(mode):
        raise _refusal(path, "a folder", errno.EISDIR)
    if stat.S_ISSOCK(mode):
        raise _refusal(path, "a socket", errno.EINVAL)
    if stat.S_ISBLK(mode):
        raise _refusal(path, "a block device", errno.EINVAL)
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def _stat(path: Path | str) -> os.stat_result | None:
    try:
        return os.stat(path)  # follows symbolic links
    except FileNotFoundError:
        return None


def _text(fd: int) -> TextIO:
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


@contextmanager
def open_export(path: Path) -> Iterator[TextIO]:
    """A text handle (UTF-8, newlines as written) for an export to `path`, put in place when
    the block ends without an exception; see the module's docstring for what stands there."""
    target = path.expanduser()
    found = _stat(target)
    if found is not None and _writes_through(target, found):
        with _text(os.open(target, os.O_WRONLY)) as handle:
            yield handle
        return
    # A link is followed to where the file really is: the rename happens there, the link stays.
    real = Path(os.path.realpath(target))
    if found is not None:
        there = _stat(real)
        moved = there is None or (there.st_dev, there.st_ino) != (found.st_dev, found.st_ino)
        if moved or _names_a_descriptor(target):
            # A descriptor's file (`> out.jsonl` behind /dev/stdout) belongs to whoever opened
            # it: replacing it would leave them writing to a file no longer there.
            with _text(os.open(target, os.O_WRONLY | os.O_TRUNC)) as handle:
                yield handle
            return
    with _replacing(real) as handle:
        yield handle


def _names_a_descriptor(path: Path) -> bool:
    """Whether path, or a link on the way from it, names an open descriptor (/dev/stdout ->
    /proc/self/fd/1, /dev/fd/N)."""
    current = Path(os.path.abspath(path))
    for _ in range(40):  # the kernel's own limit on links followed
        if current.parts[1:2] == ("proc",) or current.parts[1:3] == ("dev", "fd"):
            return True
        if not current.is_symlink():
            return False
        link = Path(os.readlink(current))
        current = Path(os.path.abspath(current.parent / link))
    return False


@contextmanager
def _replacing(real: Path) -> Iterator[TextIO]:
    fd, partial = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".partial", dir=real.parent)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, EXPORT_MODE)  # mkstemp's 0600 less the umask's bits: 0600 itself
        with _text(fd) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, real)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise
    _sync_folder(real.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (where a folder can be opened and synced)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def write_export_text(path: Path, text: str) -> None:
    """Write a whole export held in memory (a run report) to `path`, as open_export does."""
    with open_export(path) as handle:
        handle.write(text)
