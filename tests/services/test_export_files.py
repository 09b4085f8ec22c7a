"""services/export_files.py: how every export reaches its file (the TUI's export dialogs and
the CLI call the same services, so these hold for both)."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from llmbench.services.export_files import ExportTargetRefused, open_export, write_export_text


def test_a_failed_export_keeps_the_old_file_and_leaves_no_part(tmp_path: Path) -> None:
    target = tmp_path / "calls.jsonl"
    target.write_text("the previous export\n")
    with pytest.raises(RuntimeError), open_export(target) as out:
        out.write("half of a new export")
        raise RuntimeError("the database went away")
    assert target.read_text() == "the previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["calls.jsonl"]


def test_a_planted_partial_file_is_never_followed(tmp_path: Path) -> None:
    """The old code wrote to the fixed name .NAME.partial, following a link planted there."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (tmp_path / ".calls.jsonl.partial").symlink_to(victim)
    with open_export(tmp_path / "calls.jsonl") as out:
        out.write("{}\n")
    assert victim.read_text() == "keep me\n"
    assert (tmp_path / "calls.jsonl").read_text() == "{}\n"


def test_a_folder_is_refused_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ExportTargetRefused) as refused, open_export(tmp_path):
        pytest.fail("nothing may be written")
    assert refused.value.errno == errno.EISDIR
    assert refused.value.strerror == "it is a folder, not a file: give a file name"
    assert str(refused.value) == f"cannot write {tmp_path}: {refused.value.strerror}"  # the TUI's


def test_a_whole_report_is_written_private_through_a_link(tmp_path: Path) -> None:
    real, link = tmp_path / "report.xml", tmp_path / "latest.xml"
    link.symlink_to(real.name)  # relative, as `ln -s report.xml latest.xml` makes it
    previous = os.umask(0o000)
    try:
        write_export_text(link, "<testsuites/>\n")
    finally:
        os.umask(previous)
    assert link.is_symlink() and real.read_text() == "<testsuites/>\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600


def test_dev_stdout_writes_into_the_callers_file_without_replacing_it(tmp_path: Path) -> None:
    out = tmp_path / "report.txt"
    out.write_text("old\n")
    inode = out.stat().st_ino
    code = (
        "from pathlib import Path\n"
        "from llmbench.services.export_files import write_export_text\n"
        "write_export_text(Path('/dev/stdout'), 'new\\n')\n"
    )
    with out.open("r+b") as stdout:
        subprocess.run([sys.executable, "-c", code], stdout=stdout, check=True, timeout=60)
    assert out.stat().st_ino == inode and out.read_text() == "new\n"
