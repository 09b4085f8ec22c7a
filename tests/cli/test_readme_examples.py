"""Every `llmbench ...` example in README.md's shell code blocks runs on a demo database.

The demo is built once per session with the demo builder; each code block runs, in order, on
its own copy (as a reader would type the block), from a folder holding the files its examples
name. A line written as a synopsis (`[--db PATH]`, `a|b`, `FILE`) runs as the concrete
commands INSTANCES gives for it; a line written as a command runs as written. Each must exit 0
(or the code the README gives it) and print something. Commands that need an API key, the
network or a terminal for the TUI are skipped, each with its reason in SKIPPED. A README line
that is neither runnable, nor instanced, nor skipped fails the test: the list stays complete.
The exit-code table is checked by running its example for each code.
"""

from __future__ import annotations

import re
import shlex
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmbench.cli import cli
from llmbench.demo.build import build_demo
from llmbench.gateway.client import shutdown_sync

README = Path(__file__).resolve().parents[2] / "README.md"
SHELL_FENCES = {"", "sh", "bash", "shell", "console"}
DEMO_CALLS = 3000

# README lines run as concrete commands: (arguments after `llmbench`, expected exit code).
INSTANCES: dict[str, list[tuple[str, int]]] = {
    "llmbench [--db PATH] [--create]": [("--db typo/x.db", 2)],  # the TUI itself: SKIPPED
    "llmbench demo [--db PATH] [--no-tui] [--calls N] [--seed N] [--rebuild]": [
        ("demo --db fresh.db --no-tui --calls 200 --seed 3", 0),
        ("demo --db fresh.db --no-tui", 0),
        ("demo --db fresh.db --no-tui --rebuild --calls 100", 0),
    ],
    "llmbench config path|show": [("config path", 0), ("config show", 0)],
    "llmbench db path|info|check": [("db path", 0), ("db info", 0), ("db check", 0)],
    "llmbench db backup FILE": [("db backup backup.db", 0)],
    "llmbench keys set|list|delete PROVIDER": [("keys list", 0)],
    "llmbench prices set MODEL --input X --output Y [--cached Z] [--from DAY]": [
        ("prices set my-model --input 1 --output 2 --cached 0.5 --from 2025-01-01", 0)
    ],
    "llmbench routes set NAME --arm name=..,weight=..,model=..|version=.. [--arm ...] "
    "[--prompt P]": [
        ("routes set cheap --arm name=mini,weight=100,model=gpt-4o-mini --model gpt-4o", 0),
        ("routes set by-tier --arm name=a,weight=1,model=llmbench/mock --when tier=free", 0),
    ],
    "llmbench routes delete NAME": [("routes delete cheap", 0)],
    "llmbench audit verify [--checkpoint ID:HASH] [--no-head|--reset-head] [--key-file F]": [
        ("audit verify", 0),
        ("audit verify --no-head", 0),
    ],
    "llmbench audit key export|import FILE": [
        ("audit key export chain.key", 0),
        ("audit key import chain.key", 0),
    ],
    "llmbench audit purge [--dry-run] [--vacuum] [--delete-after D] [--redact-after D] [--yes]": [
        ("audit purge --dry-run --delete-after 20", 0),
        ("audit purge --delete-after 25 --redact-after 20 --yes", 0),
    ],
    "llmbench monitor check [--days N] [--both-directions]": [
        ("monitor check", 0),
        ("monitor check --days 14 --both-directions", 0),
    ],
    "llmbench monitor consistency [--prompt NAME] [--days 7]": [
        ("monitor consistency", 0),
        ("monitor consistency --prompt support-reply --days 3", 0),
    ],
    "llmbench monitor sample --prompt NAME --suite FILE [--rate 0.05] [--days 7] [--no-judge]": [
        ("monitor sample --prompt support-reply --suite checks.eval.yaml --rate 0.5", 0)
    ],
    "llmbench monitor alerts [--open]": [("monitor alerts", 0), ("monitor alerts --open", 0)],
    "llmbench monitor ack ID": [("monitor ack 1", 0)],
    "llmbench costs [--by feature,model] [--since 30d] [--until D] [--where DIM=VALUE]": [
        ("costs", 0),
        ("costs --by feature,model --since 7d --where feature=search-answer --format json", 0),
    ],
    "llmbench budgets set SCOPE --limit USD [--period day|week|month]": [
        ("budgets set team=search --limit 5 --period week", 0)
    ],
    "llmbench budgets list|delete ID|check [--days N]": [
        ("budgets list", 0),
        ("budgets check --days 14", 0),
        ("budgets delete 1", 0),
    ],
    "llmbench import llm-logs PATH": [("import llm-logs logs.db", 0)],
    "llmbench import jsonl PATH [--map FIELD=PATH]": [
        ("import jsonl spend.jsonl --map ts=startTime --map cost=spend", 0)
    ],
    "llmbench import usage-csv PATH": [("import usage-csv usage.csv", 0)],
    "llmbench import otlp PATH": [("import otlp collector_file.jsonl", 0)],
    "llmbench optimize PROMPT [--dataset D] [--from-production] [--apply]": [
        ("optimize classify-intent", 0),
        ("optimize support-reply --apply", 0),
    ],
    "llmbench import promptfoo CONFIG [-o SUITE] [--run] [--model-map FROM=TO] "
    "[--fail-under RATE]": [
        (
            "import promptfoo promptfooconfig.yaml -o pf.eval.yaml --run --fail-under 0"
            " --model-map openai:gpt-4o-mini=llmbench/echo"
            " --model-map anthropic:messages:claude-3-5-haiku-20241022=llmbench/mock"
            " --model-map ollama:chat:llama3=llmbench/mock"
            " --model-map openai:gpt-4o=llmbench/mock",
            0,
        )
    ],
    "llmbench logs export PATH [--format jsonl|csv] [-q QUERY] [--model M] [--status S]": [
        ("logs export calls.csv --format csv -q model:gpt-4o --status ok --since 7d", 0)
    ],
    "llmbench prompts export DIR [NAME...]": [("prompts export prompts support-reply", 0)],
    "llmbench prompts import DIR|FILE [--author NAME]": [
        ("prompts import prompts --author ada", 0)
    ],
    "llmbench eval SUITE.yaml [--baseline RUN] [--fail-under RATE] [-o out.json|out.csv|out.xml]": [
        ("eval checks.eval.yaml -o out.json --fail-under 0", 0),
        # Run 4: the demo holds three runs (the story's two and the optimizer's bake-off).
        ("eval checks.eval.yaml --baseline 4 --fail-under 0 -o out.xml", 0),
    ],
    "llmbench eval --resume RUN": [("eval --resume 4 --fail-under 0", 0)],
    "llmbench grades rubric FILE [--replace]": [
        ("grades rubric tone.toml", 0),
        ("grades rubric tone.toml --replace", 0),
    ],
    "llmbench grades export FILE [--format csv|jsonl] [--rubric NAME]": [
        ("grades export grades.csv", 0),
        ("grades export grades.out --format jsonl --rubric helpfulness", 0),
    ],
    "llmbench datasets import tickets.csv [--name tickets]": [
        ("datasets import tickets.csv", 0),
        ("datasets import bad-tickets.csv --name tickets", 2),  # "a bad row: exit 2"
    ],
}

# README lines not run, and why.
SKIPPED: dict[str, str] = {
    "pip install . && llmbench demo": "installs the package, then opens the TUI",
    "llmbench --reviewer NAME": "opens the TUI",
    "llmbench keys set|list|delete PROVIDER": (
        "set and delete write the OS keyring and take a real API key (list runs, above)"
    ),
    "llmbench [--db PATH] [--create]": "opens the TUI (the refusal of a missing path runs)",
    "llmbench export otel [--endpoint URL] [--since D] [--until D] [-q QUERY] [--bodies]"
    " [--header NAME=VALUE]": (
        "needs an OTLP collector (tests/otel_out/test_otel_out.py sends history to a real one)"
    ),
    "llmbench collect [--port 4318] [--host 127.0.0.1]": (
        "a server that runs until ctrl+c (tests/test_cli_collect.py starts it, sends it spans"
        " and stops it)"
    ),
}

# Marks of a synopsis rather than a command: options in brackets, alternatives, placeholders.
SYNOPSIS = re.compile(r"\[|\||\.\.\.|…|\b[A-Z][A-Z_]*[A-Z]\b|\b[XYZ]\b")


@dataclass(frozen=True)
class Example:
    line: int  # in README.md
    block: int  # which code block, counted from the top
    text: str  # the command, without its comment or description

    @property
    def runnable(self) -> bool:
        return SYNOPSIS.search(self.text) is None


def _command(text: str) -> str:
    """The command of an example line: its `# comment` and a synopsis's two-space-separated
    description left off."""
    text = re.sub(r"\s+#\s.*$", "", text.strip())
    return re.split(r"\s{2,}", text)[0].strip()


def readme_examples() -> list[Example]:
    examples, block, fence = [], 0, None
    lines = README.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if stripped.startswith("```"):
            if fence is None:
                fence, block = stripped[3:].strip(), block + 1
            else:
                fence = None
            index += 1
            continue
        start = index
        while line.rstrip().endswith("\\") and index + 1 < len(lines):  # continued lines
            index += 1
            line = line.rstrip()[:-1].rstrip() + " " + lines[index].strip()
        index += 1
        if fence in SHELL_FENCES and re.search(r"(^|&&\s*)(\$\s*)?llmbench\b", line.strip()):
            examples.append(Example(start + 1, block, _command(line)))
    return examples


EXAMPLES = readme_examples()


def test_every_example_is_run_or_skipped_with_a_reason() -> None:
    assert len(EXAMPLES) > 40
    synopses = {example.text for example in EXAMPLES if not example.runnable}
    unplanned = synopses - INSTANCES.keys() - SKIPPED.keys()
    assert not unplanned, f"README synopsis lines with no instance or reason: {unplanned}"
    stale = (INSTANCES.keys() | SKIPPED.keys()) - {example.text for example in EXAMPLES}
    assert not stale, f"instances or skips for lines no longer in the README: {stale}"


# -- the demo and the files the examples name ------------------------------------------------


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo database and the audit-chain keys made with it (session-wide)."""
    import os

    path = tmp_path_factory.mktemp("readme-demo") / "demo.db"
    build_demo(path, calls=DEMO_CALLS)
    return path, Path(os.environ["LLMBENCH_HOME"]) / "audit-keys"


def _input_files(folder: Path) -> None:
    """The files the README's examples name, written as the real tools write them."""
    (folder / "tickets.csv").write_text(
        "ticket,__expected,__tags\n"
        "I was charged twice,icontains: refund,task_type=billing\n"
        "Cannot log in,,task_type=login\n",
        encoding="utf-8",
    )
    (folder / "bad-tickets.csv").write_text("ticket,__expected\nhi,javascript: 1\nshort\n")
    (folder / "notes.txt").write_text("my notes\n")
    (folder / "checks.eval.yaml").write_text(
        "name: readme checks\n"
        "prompts: [support-reply@production]\n"
        "models: [llmbench/echo]\n"
        "checks:\n"
        "  - {type: length, max: 4000}\n"
        "  - {type: not-icontains, value: as an ai}\n"
        "tests:\n"
        "  - vars: {ticket: I was charged twice, customer_name: Ada}\n"
        "  - vars: {ticket: My parcel never arrived, customer_name: Bo}\n",
        encoding="utf-8",
    )
    (folder / "tone.toml").write_text(
        'name = "tone"\n'
        'description = "How the reply sounds"\n'
        "[[dimensions]]\n"
        'name = "warmth"\n'
        'levels = ["cold", "neutral", "warm"]\n',
        encoding="utf-8",
    )
    (folder / "spend.jsonl").write_text(
        '{"request_id": "s1", "model": "gpt-4o-mini", "startTime": "2025-06-03T10:00:00Z",'
        ' "spend": 0.5, "prompt_tokens": 10, "completion_tokens": 1}\n',
        encoding="utf-8",
    )
    (folder / "usage.csv").write_text(
        "start_time,end_time,start_time_iso,end_time_iso,project_id,num_model_requests,user_id,"
        "api_key_id,model,batch,input_tokens,output_tokens,input_cached_tokens\n"
        "1746057600,1746144000,2025-05-01T00:00:00+00:00,2025-05-02T00:00:00+00:00,proj_a,"
        "12,,key_1,gpt-4o-mini,false,12000,3000,2000\n",
        encoding="utf-8",
    )
    logs = sqlite3.connect(folder / "logs.db")  # simonw/llm's logs.db, `responses` shape
    logs.executescript(
        """
        CREATE TABLE conversations (id TEXT PRIMARY KEY, name TEXT, model TEXT);
        CREATE TABLE responses (
            id TEXT PRIMARY KEY, model TEXT, prompt TEXT, system TEXT, prompt_json TEXT,
            options_json TEXT, response TEXT, response_json TEXT,
            conversation_id TEXT REFERENCES conversations(id), duration_ms INTEGER,
            datetime_utc TEXT, input_tokens INTEGER, output_tokens INTEGER, token_details TEXT,
            schema_id TEXT, resolved_model TEXT
        );
        INSERT INTO responses (id, model, prompt, response, duration_ms, datetime_utc,
                               input_tokens, output_tokens)
        VALUES ('01a', 'gpt-4o-mini', 'Hi', 'Hello!', 420, '2025-05-01T10:00:00', 10, 2);
        """
    )
    logs.close()
    otlp = Path(__file__).resolve().parents[1] / "data" / "otlp" / "collector_file.jsonl"
    shutil.copy(otlp, folder / otlp.name)
    promptfoo = Path(__file__).resolve().parents[1] / "data" / "promptfoo" / "getting-started"
    for name in ("promptfooconfig.yaml", "translate.txt"):
        shutil.copy(promptfoo / name, folder / name)


@dataclass(frozen=True)
class Ran:
    code: int
    output: str


class Workspace:
    """A copy of the demo as the database in use (LLMBENCH_DB), its keys in this test's home,
    and a folder with the input files, where commands run as typed."""

    def __init__(self, demo: tuple[Path, Path], root: Path, home: Path) -> None:
        self.root = root
        self.db = root / "demo.db"
        shutil.copy(demo[0], self.db)
        shutil.copytree(demo[1], home / "audit-keys", dirs_exist_ok=True)
        _input_files(root)

    def run(self, command: str, stdin: str | None = None) -> Ran:
        words = shlex.split(command)
        target = None
        if ">" in words:  # `... > file`: stdout goes to the file
            at = words.index(">")
            words, target = words[:at], words[at + 1]
        assert words[0] == "llmbench", command
        result = CliRunner().invoke(cli, words[1:], prog_name="llmbench", input=stdin)
        shutdown_sync()
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            return Ran(-1, f"{result.output}raised {result.exception!r}")  # a traceback
        if target is not None:
            written = self.root / target
            written.write_text(result.stdout, encoding="utf-8")
            return Ran(result.exit_code, written.read_text(encoding="utf-8"))
        return Ran(result.exit_code, result.output)


@pytest.fixture
def workspace(
    demo_build: tuple[Path, Path],
    tmp_path: Path,
    isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Workspace]:
    space = Workspace(demo_build, tmp_path, isolated_home)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LLMBENCH_DB", str(space.db))
    yield space


def _planned(example: Example) -> list[tuple[str, int]]:
    if example.runnable:
        return [(example.text, 0)]
    return [(f"llmbench {args}", code) for args, code in INSTANCES.get(example.text, [])]


BLOCKS = sorted({example.block for example in EXAMPLES})


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{block}" for block in BLOCKS])
def test_the_examples_of_a_code_block_run_on_the_demo(block: int, workspace: Workspace) -> None:
    ran, wrong = 0, []
    for example in (e for e in EXAMPLES if e.block == block):
        if example.text in SKIPPED and example.text not in INSTANCES:
            continue
        for command, expected in _planned(example):
            result = workspace.run(command)
            where = f"README.md:{example.line}: {command}"
            if result.code != expected:
                wrong.append(f"{where} exited {result.code}, not {expected}:\n{result.output}")
            elif not result.output.strip():
                wrong.append(f"{where} printed nothing")
            ran += 1
    if not ran:
        pytest.skip("every example of this block is in SKIPPED")
    assert not wrong, "\n".join(wrong)


def _exit_code_table() -> list[tuple[int, str, str | None]]:
    """(code, command, what is typed at its prompt) of each row of the README's exit codes."""
    rows = []
    for line in README.read_text(encoding="utf-8").splitlines():
        found = re.match(r"\|\s*(\d+)\s*\|.*\|\s*`(llmbench [^`]+)`(.*)\|\s*$", line)
        if found:
            answered = re.search(r"answered `([^`]*)`", found.group(3))
            rows.append((int(found.group(1)), found.group(2), answered and answered.group(1)))
    return rows


def test_the_exit_code_table_is_true_for_its_examples(workspace: Workspace) -> None:
    rows = _exit_code_table()
    assert sorted(code for code, _, _ in rows) == [0, 1, 2, 130]
    for code, command, answer in rows:
        result = workspace.run(command, stdin=None if answer is None else answer + "\n")
        assert result.code == code, f"{command}: exit {result.code}, not {code}\n{result.output}"
        assert result.output.strip()
        if code:
            assert "Traceback" not in result.output
            assert any(line.startswith("llmbench: ") for line in result.output.splitlines())
