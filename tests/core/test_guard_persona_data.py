"""The fourth part of the guard classifier's training data (tests/benchmarks/guard/persona.jsonl.gz,
built by scripts/guard_data/build_persona.py): ordinary requests only, training families only,
apart from the held-out rows and the other parts, every family named in its manifest with a
source and a licence, and each copied file naming the commit it was copied from."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GUARD_DATA = ROOT / "tests" / "benchmarks" / "guard"
SCRIPTS = ROOT / "scripts" / "guard_data"
sys.path.insert(0, str(SCRIPTS))
sys.path.insert(0, str(ROOT / "scripts"))

import build_persona  # noqa: E402  (a script beside its siblings, not a package)
import train_guard  # noqa: E402


def _rows(name: str) -> list[dict[str, Any]]:
    with gzip.open(GUARD_DATA / name, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def test_the_fourth_part_is_benign_training_only_and_apart_from_the_others() -> None:
    persona = _rows("persona.jsonl.gz")
    others = _rows("corpus.jsonl.gz") + _rows("extra.jsonl.gz") + _rows("more.jsonl.gz")
    manifest = json.loads((GUARD_DATA / "persona_manifest.json").read_text(encoding="utf-8"))
    assert {row["split"] for row in persona} == {"train"}
    assert {row["label"] for row in persona} == {"benign"}
    families = {row["family"] for row in persona}
    assert families == {"awesome-chatgpt-prompts-rest", "ifeval", "fabric-patterns"}
    assert families.isdisjoint({row["family"] for row in others})
    assert manifest["rows"] == len(persona)
    assert set(manifest["families"]) == families
    assert all(manifest["sources"][family]["licence"] for family in families)
    assert manifest["overlap"]["against"] == ["heldout"]
    elsewhere = {_key(row["text"]) for row in others}
    assert not [row["id"] for row in persona if _key(row["text"]) in elsewhere]
    keys = [_key(row["text"]) for row in persona]
    assert len(keys) == len(set(keys))


def test_the_build_gives_the_committed_rows() -> None:
    rows, dropped = build_persona.build()
    assert rows == _rows("persona.jsonl.gz")
    assert not dropped


def test_each_copied_file_names_its_source_commit() -> None:
    for name in ("awesome_chatgpt_prompts_rest.tsv", "ifeval_prompts.tsv"):
        first = (SCRIPTS / name).read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# From ") and "commit " in first, name
    patterns = json.loads((SCRIPTS / "fabric_patterns.json").read_text(encoding="utf-8"))
    assert all(len(entry["commit"]) == 40 for entry in patterns["patterns"].values())


def test_a_written_newline_is_read_back_as_one() -> None:
    texts = dict(build_persona._tsv("ifeval_prompts.tsv"))
    assert texts["1012"].count("\n") == 1
    assert "\\n" not in texts["1012"]


def test_training_reads_the_fourth_part_only_when_asked() -> None:
    # No variant trained with it has shipped: the default must still give the shipped weights.
    families = {row["family"] for row in train_guard.load_rows()}
    assert "ifeval" not in families and "awesome-chatgpt-prompts-more" in families
    with_persona = {row["family"] for row in train_guard.load_rows(persona=True)}
    assert with_persona - families == {"awesome-chatgpt-prompts-rest", "ifeval", "fabric-patterns"}
