"""Routes in the database: the store, the gateway and the SDK reading them beside the config's,
and `llmbench routes list|set|delete`, all on real SQLite files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from llmbench import Bench, paths
from llmbench.cli import cli
from llmbench.config import Settings
from llmbench.core.models import Variable
from llmbench.core.traffic.routing import (
    Arm,
    Route,
    RouteError,
    describe_arm,
    merge_routes,
    parse_arm,
)
from llmbench.gateway import engine
from llmbench.gateway.client import shutdown_sync
from llmbench.gateway.engine import Gateway
from llmbench.gateway.recorder import AuditRecorder
from llmbench.store.db import Store, open_db
from llmbench.store.prompts import versions as prompts
from llmbench.store.routes import delete_route, load_routes, set_route

NOW = "2026-11-27T10:00:00.000Z"
HELLO = [{"role": "user", "content": "hello"}]
TO_ECHO = Route("to-echo", (Arm("echo", model="llmbench/echo"),), model="llmbench/mock")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "routes.db") as opened:
        yield opened


def test_routes_round_trip_through_the_table(store: Store) -> None:
    canary = Route(
        "canary",
        (Arm("stable", 90, version="production"), Arm("new", 10, model="llmbench/echo")),
        prompt="faq",
        key="customer",
        when={"tier": "pro"},
    )
    assert store.write(lambda db: set_route(db, canary, NOW)) is False
    assert store.write(lambda db: set_route(db, TO_ECHO, NOW)) is False
    assert load_routes(store.read()) == [canary, TO_ECHO]  # by name: the order tried
    moved = Route("canary", (Arm("stable", 50, version="production"),), prompt="faq")
    assert store.write(lambda db: set_route(db, moved, NOW)) is True
    assert load_routes(store.read())[0] == moved
    assert store.write(lambda db: delete_route(db, "canary")) is True
    assert store.write(lambda db: delete_route(db, "canary")) is False
    assert load_routes(store.read()) == [TO_ECHO]


def test_a_row_that_is_no_route_is_named(store: Store) -> None:
    store.write(
        lambda db: db.execute(
            "INSERT INTO routes (name, arms, created_at, updated_at) VALUES ('bad', ?, ?, ?)",
            ['[{"name": "a", "weight": 10}]', NOW, NOW],
        )
    )
    with pytest.raises(RouteError, match="needs a model or a version"):
        load_routes(store.read())


def test_database_routes_come_first_and_win_a_name_clash() -> None:
    configured = (Route("a", (Arm("x", model="m1"),)), Route("b", (Arm("y", model="m2"),)))
    stored = (Route("b", (Arm("z", model="m3"),)), Route("c", (Arm("w", model="m4"),)))
    merged = merge_routes(configured, stored)
    assert [(r.name, r.arms[0].name) for r in merged] == [("b", "z"), ("c", "w"), ("a", "x")]


@pytest.mark.parametrize(
    ("spec", "arm"),
    [
        ("name=canary,weight=10,version=staging", Arm("canary", 10, version="staging")),
        ("name=cheap, model=ollama/llama3:8b", Arm("cheap", 100, model="ollama/llama3:8b")),
    ],
)
def test_arms_are_written_as_fields(spec: str, arm: Arm) -> None:
    assert parse_arm(spec) == arm
    assert parse_arm(describe_arm(arm)) == arm


@pytest.mark.parametrize(
    "spec",
    [
        "canary",
        "name=a,colour=red",
        "weight=5,model=m",
        "name=a,weight=lots,model=m",
        "name=a,weight=nan,model=m",
    ],
)
def test_a_malformed_arm_is_refused(spec: str) -> None:
    with pytest.raises(RouteError):
        parse_arm(spec)


async def test_the_gateway_follows_database_routes_within_the_refresh_window(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = Gateway(AuditRecorder(store), Settings())
    before = await gateway.complete("llmbench/mock", HELLO)
    store.write(lambda db: set_route(db, TO_ECHO, NOW))
    cached = await gateway.complete("llmbench/mock", HELLO)
    assert (before.completion.model, cached.completion.model) == ("llmbench/mock",) * 2
    monkeypatch.setattr(engine, "ROUTE_REFRESH_S", 0.0)  # the 30 s window has passed
    routed = await gateway.complete("llmbench/mock", HELLO)
    assert routed.completion.model == "llmbench/echo"
    store.write(lambda db: delete_route(db, "to-echo"))
    assert (await gateway.complete("llmbench/mock", HELLO)).completion.model == "llmbench/mock"
    gateway.recorder.flush()
    arms = [row[0] for row in store.read().execute("SELECT arm FROM calls ORDER BY id")]
    assert arms == [None, None, "to-echo:echo", None]


async def test_a_database_route_replaces_the_config_route_of_its_name(store: Store) -> None:
    configured = Route("to-echo", (Arm("kept", model="llmbench/mock"),), model="llmbench/mock")
    store.write(lambda db: set_route(db, TO_ECHO, NOW))
    gateway = Gateway(AuditRecorder(store), Settings(routes=(configured,)))
    assert gateway.routes() == (TO_ECHO,)
    assert (await gateway.complete("llmbench/mock", HELLO)).completion.model == "llmbench/echo"
    gateway.recorder.flush()


def test_the_sdk_routes_prompt_versions_from_the_database(tmp_path: Path) -> None:
    with Bench(db=tmp_path / "sdk.db", settings=Settings()) as bench:

        def seed(db) -> None:
            prompt_id = prompts.create_prompt(db, "faq")
            first = prompts.add_version(
                db, prompt_id, {"task": "{{ q }}"}, variables=[Variable("q")], model="llmbench/echo"
            )
            second = prompts.add_version(
                db,
                prompt_id,
                {"task": "Q: {{ q }}"},
                variables=[Variable("q")],
                model="llmbench/mock",
                parent_id=first,
            )
            prompts.set_label(db, prompt_id, "production", first)
            prompts.set_label(db, prompt_id, "staging", second)
            set_route(db, Route("all-staging", (Arm("s", version="staging"),), prompt="faq"), NOW)

        bench.store.write(seed)
        answer = bench.complete("faq", variables={"q": "hi"}, tags={"user": "ann"})
        assert answer.completion.model == "llmbench/mock"
        bench.gateway.recorder.flush()
        [(arm,)] = bench.store.read().execute("SELECT arm FROM calls").fetchall()
        assert arm == "all-staging:s"
    shutdown_sync()


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="llmbench")


def test_the_routes_commands(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    open_db(db).close()
    paths.config_path().parent.mkdir(parents=True, exist_ok=True)
    paths.config_path().write_text(
        '[[routes]]\nname = "canary"\nprompt = "faq"\n'
        'arms = [{ name = "old", version = "production" }]\n'
        '[[routes]]\nname = "free"\nwhen = { tier = "free" }\n'
        'arms = [{ name = "cheap", model = "llmbench/echo" }]\n'
    )
    added = _run(
        "routes",
        "set",
        "canary",
        "--prompt",
        "faq",
        "--arm",
        "name=stable,weight=90,version=production",
        "--arm",
        "name=new,weight=10,version=staging",
        "--db",
        db,
    )
    assert added.exit_code == 0, added.output
    assert added.output.startswith("added canary")
    assert "stable 90% → version production | new 10% → version staging" in added.output
    listed = _run("routes", "list", "--db", db).output.splitlines()
    assert [line.split()[:2] for line in listed] == [
        ["canary", "database"],
        ["free", "config"],
        ["canary", "config"],
    ]
    assert listed[2].endswith("(replaced by the database route)")
    assert "tier=free; by user: cheap 100% → llmbench/echo" in listed[1]

    refused = _run("routes", "delete", "free", "--db", db)
    assert refused.exit_code == 1 and "config file" in refused.output
    assert _run("routes", "delete", "canary", "--db", db).output == "deleted route canary\n"
    # The config's canary is back in charge, and is not the database's to delete.
    assert _run("routes", "list", "--db", db).output.startswith("canary                   config")
    missing = _run("routes", "delete", "ghost", "--db", db)
    assert missing.exit_code == 1 and missing.output == "llmbench: no route ghost in the database\n"
    with open_db(db) as store:
        assert load_routes(store.read()) == []


@pytest.mark.parametrize(
    "args",
    [
        ("--arm", "name=a"),
        ("--arm", "name=a,weight=x,model=m"),
        ("--arm", "name=a,model=m", "--when", "tier"),
        (),
    ],
)
def test_a_bad_route_is_a_one_line_usage_error(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = _run("routes", "set", "r", *args, "--db", str(tmp_path / "u.db"))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("llmbench: ")
