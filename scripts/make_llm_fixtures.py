"""Write tests/data/llm_logs/: logs.db files made by the real simonw/llm CLI, one per layout.

Run: python scripts/make_llm_fixtures.py [--out tests/data/llm_logs] [--work DIR]

Each llm release is installed with pip into a throwaway virtualenv (with the offline model
plugins named below) and its own `llm` command line is run, through llm's click command in one
Python process per file, with LLM_USER_PATH pointed at a temporary folder, so it logs every
call into a fresh logs.db there. Needs PyPI (pip) and Python 3.11; takes a few minutes.
Nothing reaches a model provider: `echo` (llm-echo) and `markov` (llm-markov) answer locally;
markov reports no token usage, so its calls are logged with NULL tokens. The files written:

- llm-0.36-logs.db: the `turns` layout (threads, messages, parts), every kind of call.
- llm-0.31-logs.db: the last `responses` layout release, with fragments and tool calls.
- llm-0.19-logs.db and llm-0.13-logs.db: the `responses` layout before fragments and tools
  (0.13 before token counts and attachments too).
- llm-0.19-upgraded-to-0.36-logs.db: the 0.19 file opened by llm 0.36 (which migrates it)
  and then given 3 new calls, one continuing a conversation 0.19 logged.

README.md beside them names the releases, their plugins and dependencies (pip freeze) and the
exact commands run. The files differ on each run (ids and times are llm's own); the tests
compare what llmbench imports with whatever each committed file holds.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import venv
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "tests" / "data" / "llm_logs"


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A small one-colour PNG (llm-echo accepts image/png attachments)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width  # filter byte 0, then the pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


NOTES = "Le café ouvre à 7 h et ferme le lundi.\nThe bakery next door sells croissants.\n"
MENU = "Menu: espresso 2 €, cappuccino 3 €, 抹茶ラテ 4 €.\n"
STYLE = "Always answer in one short sentence."
ADD_FUNCTION = '''def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b
'''
MARKOV_OPTIONS = ("-o", "length", "6", "-o", "delay", "0")


@dataclass(frozen=True)
class Release:
    """One llm release and what is installed beside it. Older releases get the dependency
    versions of their day: today's openai, sqlite-utils and sqlite-migrate no longer load
    them."""

    version: str
    plugins: tuple[str, ...]
    pinned: tuple[str, ...] = ()

    @property
    def requirements(self) -> list[str]:
        return [f"llm=={self.version}", *self.plugins, *self.pinned]


LLM_036 = Release("0.36", ("llm-echo==0.5", "llm-markov==0.1"))
LLM_031 = Release(
    "0.31",
    ("llm-echo==0.4", "llm-markov==0.1"),
    ("openai==2.32.0", "sqlite-utils==3.38", "sqlite-migrate==0.1b0"),
)
LLM_019 = Release(
    "0.19",
    ("llm-echo==0.2", "llm-markov==0.1"),
    ("openai==1.55.0", "httpx==0.27.2", "pydantic==2.10.0", "sqlite-utils==3.38",
     "sqlite-migrate==0.1b0"),
)  # fmt: skip
LLM_013 = Release(
    "0.13",
    ("llm-markov==0.1",),
    ("openai==1.10.0", "httpx==0.26.0", "pydantic==2.5.3", "sqlite-utils==3.36",
     "sqlite-migrate==0.1b0"),
)  # fmt: skip


# Runs llm's own click command (`llm.cli.cli`, what the `llm` script calls) once per request,
# all in one process per logs.db: a request is a JSON line {"args": [...], "stdin": path or
# null}, the answer a JSON line {"code": exit code, "output": what llm printed}. One process
# instead of one per call because starting llm (importing openai, pydantic and the plugins)
# costs seconds, and each fixture is dozens of calls.
DRIVER = """
import json, sys
from click.testing import CliRunner
from llm.cli import cli

requests, answers = sys.stdin, sys.stdout  # CliRunner swaps sys.stdin/stdout per command
while line := requests.readline():
    request = json.loads(line)
    piped = open(request["stdin"], "rb").read() if request["stdin"] else None
    result = CliRunner().invoke(cli, request["args"], input=piped, prog_name="llm")
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        output += repr(result.exception)
    answers.write(json.dumps({"code": result.exit_code, "output": output}) + "\\n")
    answers.flush()
"""


@dataclass
class Session:
    """One LLM_USER_PATH and the llm commands run against it, recorded for the README."""

    python: Path
    user_dir: Path
    files: Path
    commands: list[str] = field(default_factory=list)
    _driver: subprocess.Popen[str] | None = None

    def run(self, *args: str, record: bool = True, stdin: str | None = None) -> str:
        """Run `llm *args` (with the file `stdin` piped in) and return what it printed."""
        driver = self._start()
        assert driver.stdin is not None and driver.stdout is not None
        request = {"args": list(args), "stdin": str(self.files / stdin) if stdin else None}
        driver.stdin.write(json.dumps(request) + "\n")
        driver.stdin.flush()
        answer = driver.stdout.readline()
        if not answer:
            raise SystemExit(f"llm {shlex.join(args)}: the driver stopped")
        done = json.loads(answer)
        if done["code"] != 0:
            raise SystemExit(f"llm {shlex.join(args)} failed:\n{done['output']}")
        if record:
            shown = shlex.join(["llm", *args]).replace(str(self.files) + "/", "")
            self.commands.append(shown + (f" < {stdin}" if stdin else ""))
        return str(done["output"])

    def _start(self) -> subprocess.Popen[str]:
        if self._driver is None:
            env = {
                key: value
                for key, value in os.environ.items()
                if not key.endswith("_API_KEY") and not key.startswith("LLM_")
            }
            env["LLM_USER_PATH"] = str(self.user_dir)
            self._driver = subprocess.Popen(
                [str(self.python), "-c", DRIVER],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                encoding="utf-8",
            )
        return self._driver

    def close(self) -> None:
        if self._driver is not None:
            assert self._driver.stdin is not None
            self._driver.stdin.close()
            self._driver.wait(timeout=60)
            self._driver = None

    def last_conversation(self) -> str:
        """The conversation id of the newest logged call, as `llm logs --json` prints it."""
        return str(json.loads(self.run("logs", "-n", "1", "--json", record=False))[0][
            "conversation_id"
        ])  # fmt: skip

    def file(self, name: str) -> str:
        return str(self.files / name)


def _make_input_files(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pixel.png").write_bytes(png(1, 1, (200, 30, 30)))
    (folder / "piped.png").write_bytes(png(2, 2, (30, 30, 200)))
    (folder / "notes.txt").write_text(NOTES, encoding="utf-8")
    (folder / "menu.txt").write_text(MENU, encoding="utf-8")
    (folder / "style.txt").write_text(STYLE, encoding="utf-8")
    (folder / "tools.py").write_text(ADD_FUNCTION, encoding="utf-8")


def _install(release: Release, work: Path) -> tuple[Path, str]:
    """A virtualenv with the release installed (one left in `work` by an earlier run is
    reused); its Python and `pip freeze`."""
    target = work / f"venv-{release.version}"
    python = target / "bin" / "python"
    if f"llm=={release.version}\n" not in (_freeze(python) if python.exists() else ""):
        venv.EnvBuilder(with_pip=True, clear=True).create(target)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *release.requirements], check=True
        )
    return python, _freeze(python)


def _freeze(python: Path) -> str:
    return subprocess.run(
        [str(python), "-m", "pip", "freeze", "--exclude", "pip", "--exclude", "setuptools"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


# -- the calls each release logs ------------------------------------------------------------


def _plain_and_system(s: Session, model: tuple[str, ...]) -> None:
    s.run(*model, "Hello, who are you?")
    s.run(*model, "Un café, s'il vous plaît ☕ — merci!")
    s.run(*model, "日本語で答えてください: 今日の天気は?")
    s.run(*model, "Emoji test 🎉🚀 with a naïve façade")
    s.run(*model, "-s", "You are a terse assistant.", "Summarise the French Revolution")
    s.run(*model, "-s", "Réponds en français.", "What is the capital of Japan?")


def _conversations(s: Session, model: tuple[str, ...]) -> None:
    s.run(*model, "-s", "You are a travel agent.", "Plan a day in Kyoto")
    agent = s.last_conversation()
    s.run("-c", "What about the evening?")
    s.run("-c", "And a café for breakfast?")
    s.run(*model, "Start of a second conversation")
    s.run("-c", "Second turn of the second conversation")
    s.run("--cid", agent, "One more question for the travel agent")


def _templates(s: Session, model: tuple[str, ...]) -> None:
    s.run(
        *model, "-s", "You are a friendly barista.",
        "Recommend a drink for someone who feels $mood", "--save", "barista",
    )  # fmt: skip
    s.run("-t", "barista", "-p", "mood", "sleepy")
    s.run("-t", "barista", "-p", "mood", "heureux — très")


def _markov(s: Session) -> None:
    """A model that reports no token usage: llm logs NULL input and output tokens."""
    s.run("-m", "markov", *MARKOV_OPTIONS, "the quick brown fox jumps over the lazy dog")
    s.run("-m", "markov", *MARKOV_OPTIONS, "le café noir et le thé vert du café")
    s.run("-c", *MARKOV_OPTIONS, "the fox and the dog are friends")


def _attachments(s: Session) -> None:
    """A file llm keeps by path, and piped bytes it keeps whole."""
    s.run("-m", "echo", "-a", s.file("pixel.png"), "Describe this image")
    s.run("-m", "echo", "--at", "-", "image/png", "Describe the piped image", stdin="piped.png")
    s.run("-m", "echo", "-a", s.file("pixel.png"), "-s", "Be brief.", "What colour is it?")


def _fragments(s: Session) -> None:
    s.run("fragments", "set", "notes", s.file("notes.txt"))
    s.run("-m", "echo", "-f", s.file("notes.txt"), "What day is the café closed?")
    s.run("-m", "echo", "-f", "notes", "Summarise these notes")
    s.run("-m", "echo", "--sf", s.file("style.txt"), "Write a haiku about tea")
    s.run("-m", "echo", "-f", "notes", "-f", s.file("menu.txt"), "Compare the two files")
    s.run("-c", "-f", s.file("menu.txt"), "Which drink is cheapest?")


def _tools(s: Session) -> None:
    """llm-echo answers a JSON prompt's `tool_calls` with real tool calls; llm runs the tools
    and sends their results back in a second call of the same chain."""
    s.run(
        "-m",
        "echo",
        "-T",
        "llm_version",
        '{"prompt": "Which llm version is installed?", "tool_calls": [{"name": "llm_version"}]}',
    )
    s.run(
        "-m",
        "echo",
        "-T",
        "llm_version",
        "-T",
        "llm_time",
        '{"prompt": "Version and time?", "tool_calls": [{"name": "llm_version"},'
        ' {"name": "llm_time"}]}',
    )
    s.run(
        "-m",
        "echo",
        "--functions",
        s.file("tools.py"),
        '{"prompt": "What is 2 + 3?", "tool_calls": [{"name": "add",'
        ' "arguments": {"a": 2, "b": 3}}]}',
    )
    s.run("-c", "--functions", s.file("tools.py"),
          '{"prompt": "And 6 × 7?", "tool_calls": [{"name": "multiply",'
          ' "arguments": {"a": 6, "b": 7}}]}')  # fmt: skip


def _echo_options(s: Session) -> None:
    s.run("-m", "echo", "-o", "example_bool", "1", "Options are logged too")
    s.run("-m", "echo", "--no-stream", "Not streamed")
    s.run("-m", "echo", '{"raw": "Just the raw café answer"}')


def _more_questions(s: Session, model: tuple[str, ...], count: int) -> None:
    topics = ("tea", "bread", "rain", "trains", "maths", "Zürich", "Ελλάδα", "a dog")
    for number in range(count):
        topic = topics[number % len(topics)]
        if number % 3 == 0:
            s.run(*model, "-s", "You are a teacher.", f"Question {number + 1}: explain {topic}")
        else:
            s.run(*model, f"Question {number + 1}: tell me about {topic}")


def log_036(s: Session) -> None:
    echo = ("-m", "echo")
    _plain_and_system(s, echo)
    _conversations(s, echo)
    _templates(s, echo)
    _fragments(s)
    _attachments(s)
    _tools(s)
    _markov(s)
    _echo_options(s)
    s.run("-m", "echo", "-o", "thinking", "1", "Think before answering: 2 + 2?")
    _more_questions(s, echo, 24)


def log_031(s: Session) -> None:
    echo = ("-m", "echo")
    _plain_and_system(s, echo)
    _conversations(s, echo)
    _templates(s, echo)
    _fragments(s)
    _attachments(s)
    _tools(s)
    _markov(s)
    _echo_options(s)


def log_019(s: Session) -> None:
    echo = ("-m", "echo")
    _plain_and_system(s, echo)
    _conversations(s, echo)
    _templates(s, echo)
    _attachments(s)
    _markov(s)
    s.run("-m", "echo", "-o", "example_bool", "1", "Options are logged too")
    _more_questions(s, echo, 28)


def log_013(s: Session) -> None:
    markov = ("-m", "markov", *MARKOV_OPTIONS)
    _plain_and_system(s, markov)
    s.run(*markov, "-s", "You are a travel agent.", "Plan a day in Kyoto")
    agent = s.last_conversation()
    s.run("-c", *MARKOV_OPTIONS, "What about the evening?")
    s.run("-c", *MARKOV_OPTIONS, "And a café for breakfast?")
    s.run(*markov, "Start of a second conversation")
    s.run("--cid", agent, *MARKOV_OPTIONS, "One more question for the travel agent")
    s.run(*markov, "-s", "You are a barista.", "Recommend a drink for $mood", "--save", "barista")
    s.run("-t", "barista", "-p", "mood", "sleepy")
    _more_questions(s, markov, 6)


def upgrade_019_with_036(s: Session, old_conversation: str) -> None:
    """Three calls by llm 0.36 on a file llm 0.19 wrote: llm migrates it on opening."""
    s.run("-m", "echo", "A new call after the upgrade, café included")
    s.run("--cid", old_conversation, "Continuing a conversation that 0.19 logged")
    s.run("-m", "echo", "-s", "You are terse.", "The third new call")


# -- putting the files in place -------------------------------------------------------------


def _copy_database(source: Path, target: Path) -> None:
    """A consistent single-file copy (the backup API, page by page: rowids are kept)."""
    target.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    dst.close()
    src.close()


def _first_conversation(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "SELECT conversation_id FROM responses GROUP BY conversation_id"
            " HAVING count(*) > 1 ORDER BY min(rowid) LIMIT 1"
        ).fetchone()
    return str(row[0])


@dataclass
class Made:
    name: str
    release: Release
    freeze: str
    commands: list[str]
    note: str


def make(out: Path, work: Path) -> list[Made]:
    inputs = work / "inputs"
    _make_input_files(inputs)
    made: list[Made] = []
    llms: dict[str, tuple[Path, str]] = {}

    def session(
        release: Release,
        name: str,
        log: Callable[[Session], None],
        note: str,
        seed: Path | None = None,
    ) -> Path:
        if release.version not in llms:
            print(f"installing llm {release.version} …", file=sys.stderr)
            llms[release.version] = _install(release, work)
        python, freeze = llms[release.version]
        user_dir = work / name
        user_dir.mkdir()
        s = Session(python, user_dir, inputs)
        if seed is not None:  # an older release's file, which this release migrates
            _copy_database(seed, user_dir / "logs.db")
            s.commands.append(f'cp {seed.parent.name} "$LLM_USER_PATH/logs.db"')
        print(f"logging {name} …", file=sys.stderr)
        try:
            log(s)
        finally:
            s.close()
        _copy_database(user_dir / "logs.db", out / name)
        made.append(Made(name, release, freeze, s.commands, note))
        return user_dir

    session(LLM_036, "llm-0.36-logs.db", log_036, "the `turns` layout, every kind of call")
    session(LLM_031, "llm-0.31-logs.db", log_031, "the last `responses` layout, with tools")
    old = session(LLM_019, "llm-0.19-logs.db", log_019, "`responses` with token columns")
    session(LLM_013, "llm-0.13-logs.db", log_013, "`responses` before token columns")
    conversation = _first_conversation(old / "logs.db")
    session(
        LLM_036,
        "llm-0.19-upgraded-to-0.36-logs.db",
        lambda s: upgrade_019_with_036(s, conversation),
        "llm-0.19-logs.db migrated by llm 0.36 on opening, then given 3 new calls",
        seed=old / "logs.db",
    )
    return made


def _counts(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        counts = [
            f"{table} {conn.execute(f'SELECT count(*) FROM [{table}]').fetchone()[0]}"
            for table in ("responses", "conversations", "turns", "threads", "messages", "parts")
            if table in tables
        ]
    conn.close()
    return ", ".join(counts)


def write_readme(out: Path, made: Sequence[Made]) -> None:
    lines = [
        "# simonw/llm logs.db files made by llm itself",
        "",
        "Written by `python scripts/make_llm_fixtures.py`: each llm release below was installed",
        "with pip into a throwaway virtualenv (with the plugins and the dependency versions",
        "listed) and the commands listed were run with `LLM_USER_PATH` pointed at an empty",
        "folder, each through llm's own click command (`llm.cli.cli`, what the `llm` script",
        "runs), one file's commands in one Python process (starting llm takes seconds).",
        "`echo` (llm-echo) and `markov` (llm-markov) answer locally; markov reports no token",
        "usage, so its calls have NULL tokens. `tests/importers/test_llm_logs_fixtures.py` and",
        "`test_llm_logs_import.py` compare llmbench's import of each file with the file itself.",
        "The input files the commands name (`pixel.png`, `piped.png`, `notes.txt`, `menu.txt`,",
        "`style.txt`, `tools.py`) are written by the script; ids and times differ on each run.",
        "",
        "| file | llm | plugins | rows |",
        "|---|---|---|---|",
    ]
    for item in made:
        lines.append(
            f"| `{item.name}` | {item.release.version} | {', '.join(item.release.plugins)} |"
            f" {_counts(out / item.name)} |"
        )
    for item in made:
        lines += [
            "",
            f"## {item.name}",
            "",
            f"{item.note[0].upper()}{item.note[1:]}.",
            "",
            "Installed: `pip install " + " ".join(item.release.requirements) + "`",
            "",
            "<details><summary>pip freeze</summary>",
            "",
            "```",
            item.freeze.strip(),
            "```",
            "",
            "</details>",
            "",
            "```sh",
            *item.commands,
            "```",
        ]
    (out / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--work", type=Path, help="keep (and reuse) the virtualenvs here; default: a temp dir"
    )
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
        for folder in args.work.glob("llm-*-logs.db"):  # an earlier run's LLM_USER_PATHs
            shutil.rmtree(folder)
        made = make(out, args.work)
    else:
        with tempfile.TemporaryDirectory(prefix="llm-fixtures-") as work:
            made = make(out, Path(work))
    write_readme(out, made)
    for item in made:
        print(f"{item.name}: {_counts(out / item.name)}")


if __name__ == "__main__":
    main()
