"""Converting promptfoo configs: prompts, providers, tests, defaultTest and every assertion type
llmbench checks; what does not convert is listed by name and line; keys and bad files refused."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmbench.core.evaluation.check_parsing import parse_check
from llmbench.core.evaluation.check_spec import EMBEDDING_METHOD
from llmbench.importers.eval_suite import load_suite
from llmbench.importers.promptfoo.assertions import assertion_from_string
from llmbench.importers.promptfoo.config import (
    Conversion,
    PromptfooError,
    convert_file,
    parse_model_map,
)
from llmbench.importers.promptfoo.providers import litellm_model
from llmbench.importers.promptfoo.suite_writing import (
    HEADER,
    check_suite_text,
    default_output,
    is_converted_suite,
    suite_text,
)

FIXTURE = Path(__file__).parents[1] / "data" / "promptfoo" / "getting-started"
MINIMAL = """\
prompts: ['Say {{word}}']
providers: [openai:gpt-4o-mini]
"""


def _config(folder: Path, text: str, name: str = "promptfooconfig.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _convert(folder: Path, text: str, **kwargs: Any) -> Conversion:
    return convert_file(_config(folder, text), **kwargs)


def _problems(folder: Path, text: str, **kwargs: Any) -> list[str]:
    with pytest.raises(PromptfooError) as error:
        _convert(folder, text, **kwargs)
    return [str(problem) for problem in error.value.problems]


def _omitted(conversion: Conversion) -> list[str]:
    return [f"{item.where}: {item.what}" for item in conversion.omitted]


def _one_check(
    folder: Path, assertion: dict[str, Any], *, with_a_check: bool = False
) -> Conversion:
    """A config whose one test holds this assertion (and, `with_a_check`, one that converts:
    a config whose every assertion is skipped is refused)."""
    also = [{"type": "contains", "value": "hi"}] if with_a_check else []
    test = {"vars": {"word": "hi"}, "assert": [assertion, *also]}
    return _convert(folder, MINIMAL + yaml.safe_dump({"tests": [test]}, allow_unicode=True))


# -- the getting-started example -------------------------------------------------------------


def test_the_getting_started_example_converts(tmp_path: Path) -> None:
    folder = tmp_path / "getting-started"
    shutil.copytree(FIXTURE, folder)
    conversion = convert_file(folder / "promptfooconfig.yaml")
    suite = conversion.suite
    assert suite["name"] == "Getting started"
    assert [p["name"] for p in suite["prompts"]] == [
        "getting-started.prompt-1",
        "getting-started.translate",
    ]
    # Marked as Nunjucks: rendered with Nunjucks' filters (and promptfoo's `load`).
    assert (
        suite["prompts"][0]["text"]
        == "{# nunjucks #}\nConvert this English to {{language}}: {{input}}"
    )
    assert suite["prompts"][1]["text"] == "{# nunjucks #}\nTranslate to {{language}}: {{input}}"
    assert suite["prompts"][0]["variables"] == [
        {"name": "input", "kind": "trusted"},
        {"name": "language", "kind": "trusted"},
    ]
    assert suite["models"] == [
        "openai/gpt-4o-mini",
        "anthropic/claude-3-5-haiku-20241022",
        "ollama_chat/llama3",
    ]
    assert suite["judge"] == {"model": "openai/gpt-4o"}
    assert suite["checks"] == [{"type": "icontains", "value": "As an AI", "negate": True}]
    tests = suite["tests"]
    assert [t["vars"]["language"] for t in tests] == ["French", "Spanish", "German", "Pirate"]
    assert tests[0]["checks"] == [{"type": "icontains", "value": "Bonjour le monde"}]
    assert tests[1]["checks"] == [
        {"type": "icontains", "value": "Dónde está la biblioteca"},
        {"type": "javascript", "value": "output.length < 100"},
    ]
    assert tests[2]["checks"][0]["type"] == "judge"
    assert tests[3]["description"] == "Pirate speak"
    assert tests[3]["checks"][1] == {"type": "latency-le", "value": 5000}
    omitted = [str(item) for item in conversion.omitted]
    config = folder / "promptfooconfig.yaml"
    assert not any("javascript" in item for item in omitted)
    assert any("providers[1].config: temperature — differs between providers" in o for o in omitted)
    # The written suite reads back as `llmbench eval` reads it, its comments name the omissions.
    output = default_output(config)
    assert output.name == "promptfooconfig.eval.yaml"
    text = suite_text(conversion)
    output.write_text(text, encoding="utf-8")
    assert text.startswith(HEADER) and is_converted_suite(output)
    assert "#   promptfooconfig.yaml:" in text and "providers[1].config: temperature" in text
    doc = load_suite(output)
    assert len(doc.prompts) == 2 and len(doc.tests) == 4 and doc.judge_model == "openai/gpt-4o"


# -- assertions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("assertion", "check"),
    [
        ({"type": "equals", "value": 4}, {"type": "equals", "value": "4"}),
        ({"type": "contains", "value": "a"}, {"type": "contains", "value": "a"}),
        ({"type": "icontains", "value": "A"}, {"type": "icontains", "value": "A"}),
        ({"type": "starts-with", "value": "Yes"}, {"type": "starts-with", "value": "Yes"}),
        ({"type": "regex", "value": "\\d{4}"}, {"type": "regex", "value": "\\d{4}"}),
        (
            {"type": "contains-any", "value": ["a", "b"]},
            {"type": "contains-any", "value": ["a", "b"]},
        ),
        ({"type": "contains-all", "value": "a, b"}, {"type": "contains-all", "value": ["a", "b"]}),
        ({"type": "contains-json"}, {"type": "contains-json"}),
        ({"type": "bleu", "value": "the cat"}, {"type": "bleu", "value": "the cat"}),
        (
            {"type": "python", "value": "len(output) < 5", "config": {"n": 1}},
            {"type": "python", "value": "len(output) < 5", "config": {"n": 1}},
        ),
        (
            {"type": "model-graded-factuality", "value": "Paris"},
            {"type": "factuality", "value": "Paris"},
        ),
        (
            {"type": "icontains-any", "value": ["a"]},
            {"type": "contains-any", "value": ["a"], "ignore_case": True},
        ),
        (
            {"type": "icontains-all", "value": ["a"]},
            {"type": "contains-all", "value": ["a"], "ignore_case": True},
        ),
        ({"type": "is-json"}, {"type": "is-json"}),
        (
            {"type": "is-json", "value": {"type": "object", "required": ["a"]}},
            {"type": "json-schema", "value": {"type": "object", "required": ["a"]}},
        ),
        (
            {"type": "not-contains", "value": "x", "weight": 2, "metric": "clean"},
            {"type": "contains", "value": "x", "negate": True, "weight": 2, "metric": "clean"},
        ),
        ({"type": "latency", "threshold": 3000}, {"type": "latency-le", "value": 3000}),
        ({"type": "cost", "threshold": 0.002}, {"type": "cost-le", "value": 0.002}),
        ({"type": "is-refusal"}, {"type": "is-refusal"}),
        ({"type": "not-is-refusal"}, {"type": "is-refusal", "negate": True}),
        (
            {"type": "llm-rubric", "value": "Is polite", "threshold": 0.8},
            {"type": "judge", "value": "Is polite", "threshold": 0.8},
        ),
        (
            {"type": "levenshtein", "value": "hello world", "threshold": 2},
            {"type": "levenshtein", "value": "hello world", "threshold": 2},
        ),
        ({"type": "rouge-n", "value": "the cat sat"}, {"type": "rouge-n", "value": "the cat sat"}),
    ],
)
def test_each_assertion_type_becomes_its_check(
    tmp_path: Path, assertion: dict[str, Any], check: dict[str, Any]
) -> None:
    conversion = _one_check(tmp_path, assertion)
    assert conversion.suite["tests"][0]["checks"] == [check]
    assert not conversion.omitted and not conversion.notes
    (converted,) = conversion.converted
    assert (converted.where, converted.what) == ("tests[0].assert[0]", assertion["type"])


@pytest.mark.parametrize(
    ("assertion", "reason"),
    [
        ({"type": "ruby", "value": "output.size < 5"}, "runs Ruby code"),
        ({"type": "webhook", "value": "https://example.com"}, "sends the output to a URL"),
        ({"type": "is-html"}, "no HTML validator"),
        ({"type": "meteor", "value": "x"}, "no METEOR score"),
        ({"type": "made-up", "value": "x"}, "not a promptfoo assertion type"),
        (
            {"type": "context-faithfulness", "contextTransform": "output.docs"},
            "its contextTransform (output.docs) reshapes the context",
        ),
        (
            {"type": "llm-rubric", "value": "ok", "rubricPrompt": "x"},
            "unknown field 'rubricPrompt'",
        ),
        ({"type": "javascript", "value": "file://check.ts"}, "must end in .js"),
        ({"type": "regex", "value": "(unclosed"}, "check 'regex'"),
        ({"type": "contains", "value": "file://missing.txt"}, "cannot read file://missing.txt"),
    ],
)
def test_assertions_llmbench_cannot_check_are_listed(
    tmp_path: Path, assertion: dict[str, Any], reason: str
) -> None:
    conversion = _one_check(tmp_path, assertion, with_a_check=True)
    assert conversion.suite["tests"][0]["checks"] == [{"type": "contains", "value": "hi"}]
    (item,) = conversion.omitted
    assert (item.where, item.what, item.line) == ("tests[0].assert[0]", assertion["type"], 5)
    assert reason in item.why


def test_similar_is_embedding_similarity_with_a_note(tmp_path: Path) -> None:
    conversion = _one_check(tmp_path, {"type": "similar", "value": "hello", "threshold": 0.8})
    (check,) = conversion.suite["tests"][0]["checks"]
    assert check == {"type": "similar", "value": "hello", "threshold": 0.8}
    assert parse_check(check).options.get("method", EMBEDDING_METHOD) == EMBEDDING_METHOD
    (note,) = conversion.notes
    assert "embedding_model" in note.why and not conversion.omitted


def test_assertion_values_from_files(tmp_path: Path) -> None:
    (tmp_path / "rubric.txt").write_text("Answers in one sentence", encoding="utf-8")
    (tmp_path / "schema.json").write_text('{"type": "object"}', encoding="utf-8")
    conversion = _convert(
        tmp_path,
        MINIMAL
        + """\
tests:
  - assert:
      - {type: llm-rubric, value: file://rubric.txt}
      - {type: is-json, value: file://schema.json}
""",
    )
    assert conversion.suite["tests"][0]["checks"] == [
        {"type": "judge", "value": "Answers in one sentence"},
        {"type": "json-schema", "value": {"type": "object"}},
    ]


@pytest.mark.parametrize(
    ("cell", "assertion"),
    [
        ("Paris", {"type": "equals", "value": "Paris"}),
        ("contains: Hello", {"type": "contains", "value": "Hello"}),
        ("not-icontains:sorry", {"type": "not-icontains", "value": "sorry"}),
        ("contains-any: <b>,</span>", {"type": "contains-any", "value": ["<b>", "</span>"]}),
        ("rouge-n(0.6):the cat", {"type": "rouge-n", "value": "the cat", "threshold": 0.6}),
        ("is-json", {"type": "is-json"}),
        ("grade: Polite", {"type": "llm-rubric", "value": " Polite"}),  # as promptfoo slices it
        ("llm-rubric:Is it kind?", {"type": "llm-rubric", "value": "Is it kind?"}),
        ("similar: Paris", {"type": "similar", "value": "Paris", "threshold": 0.8}),
        ("python: len(output) < 9", {"type": "python", "value": "len(output) < 9"}),
        ("file://check.py:run", {"type": "python", "value": "file://check.py:run"}),
        ("file://check.js", {"type": "javascript", "value": "file://check.js"}),
        ('contains-any: "a, b", c', {"type": "contains-any", "value": ["a, b", "c"]}),
        ("fn: output.length > 3", {"type": "javascript", "value": "output.length > 3"}),
        ("javascript: 1 + 1", {"type": "javascript", "value": "1 + 1"}),
        ("nothing: here", {"type": "equals", "value": "nothing: here"}),
    ],
)
def test_csv_assertion_strings(cell: str, assertion: dict[str, Any]) -> None:
    assert assertion_from_string(cell) == assertion


# -- providers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "model"),
    [
        ("openai:gpt-4o-mini", "openai/gpt-4o-mini"),
        ("openai:chat:gpt-4o", "openai/gpt-4o"),
        ("openai:responses:o4-mini", "openai/o4-mini"),
        (
            "openai:completion:gpt-3.5-turbo-instruct",
            "text-completion-openai/gpt-3.5-turbo-instruct",
        ),
        ("anthropic:messages:claude-3-5-sonnet-20241022", "anthropic/claude-3-5-sonnet-20241022"),
        ("ollama:chat:llama3", "ollama_chat/llama3"),
        ("ollama:llama3:8b", "ollama/llama3:8b"),
        ("ollama:completion:llama3", "ollama/llama3"),
        ("vertex:gemini-1.5-pro", "vertex_ai/gemini-1.5-pro"),
        ("google:gemini-2.0-flash", "gemini/gemini-2.0-flash"),
        ("openrouter:meta-llama/llama-3-8b", "openrouter/meta-llama/llama-3-8b"),
        ("echo", "llmbench/echo"),
        ("openai:embedding:text-embedding-3-small", None),
        ("exec:python run.py", None),
        ("file://provider.py", None),
        ("https://example.com/api", None),
    ],
)
def test_provider_ids_map_to_litellm_models(provider: str, model: str | None) -> None:
    assert litellm_model(provider) == model


def test_provider_objects_params_and_unknown_providers(tmp_path: Path) -> None:
    conversion = _convert(
        tmp_path,
        """\
prompts: ['Say {{word}}']
providers:
  - id: openai:gpt-4o-mini
    label: fast
    config: {temperature: 0, max_tokens: 200, apiBaseUrl: http://localhost:1234}
  - anthropic:messages:claude-3-5-haiku-20241022:
      config: {temperature: 0, max_tokens: 100}
  - exec:python my_provider.py
  - id: openai:gpt-4o
    transform: output.trim()
    config: {temperature: 0}
tests: [{vars: {word: hi}}]
""",
    )
    suite = conversion.suite
    assert suite["models"] == [
        "openai/gpt-4o-mini",
        "anthropic/claude-3-5-haiku-20241022",
        "openai/gpt-4o",
    ]
    assert suite["params"] == {"temperature": 0}  # max_tokens differs between providers
    assert sorted(_omitted(conversion)) == [
        "providers[0].config: apiBaseUrl",
        "providers[0].config: max_tokens",
        "providers[1].config: max_tokens",
        "providers[2]: exec:python my_provider.py",
        "providers[3]: transform",
    ]
    unknown = next(i for i in conversion.omitted if i.where == "providers[2]")
    assert "--model-map 'exec:python my_provider.py=MODEL'" in unknown.why


@pytest.mark.parametrize(
    "where",
    [
        "providers:\n  - id: openai:gpt-4o\n    config: {apiKey: sk-SECRET-123}\n",
        "providers: [openai:gpt-4o]\ndefaultTest:\n  options:\n    provider:\n"
        "      id: openai:gpt-4o\n      config: {api_key: sk-SECRET-123}\n",
    ],
)
def test_an_api_key_is_refused_and_never_shown(tmp_path: Path, where: str) -> None:
    problems = _problems(tmp_path, "prompts: ['hi']\n" + where + "tests: [{vars: {}}]\n")
    (problem,) = problems
    assert "an API key is not converted — keys never go in a suite" in problem
    assert "OPENAI_API_KEY" in problem and "llmbench keys set openai" in problem
    assert "SECRET" not in problem
    assert problem.startswith(f"{tmp_path / 'promptfooconfig.yaml'}:")


def test_model_map_by_id_label_and_for_the_grader(tmp_path: Path) -> None:
    conversion = _convert(
        tmp_path,
        """\
prompts: ['Say {{word}}']
providers:
  - openai:gpt-4o-mini
  - {id: 'exec:python run.py', label: local}
defaultTest:
  options: {provider: openai:gpt-4o}
tests: [{vars: {word: hi}}]
""",
        model_map={
            "openai:gpt-4o-mini": "llmbench/echo",
            "local": "llmbench/mock",
            "openai/gpt-4o": "llmbench/mock",
        },
    )
    assert conversion.suite["models"] == ["llmbench/echo", "llmbench/mock"]
    assert conversion.suite["judge"] == {"model": "llmbench/mock"}
    assert not conversion.omitted
    assert dict(conversion.mapped) == {
        "openai:gpt-4o-mini": "llmbench/echo",
        "local": "llmbench/mock",
        "openai/gpt-4o": "llmbench/mock",
    }


def test_a_model_map_entry_that_matches_nothing_is_an_error(tmp_path: Path) -> None:
    (problem,) = _problems(
        tmp_path, MINIMAL + "tests: [{vars: {word: a}}]\n", model_map={"openai:gpt-5": "x"}
    )
    assert "--model-map 'openai:gpt-5': no provider or grader of the config" in problem


def test_parse_model_map() -> None:
    assert parse_model_map(["a:b=llmbench/echo", " c = d "]) == {"a:b": "llmbench/echo", "c": "d"}
    for bad in ("nothing", "=x", "x="):
        with pytest.raises(ValueError, match="use FROM=TO"):
            parse_model_map([bad])


# -- prompts ---------------------------------------------------------------------------------


def test_prompt_files_objects_and_chat_prompts(tmp_path: Path) -> None:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "two.txt").write_text(
        "First {{word}}\n---\nSecond {{word}}\n", encoding="utf-8"
    )
    (tmp_path / "prompts" / "system.md").write_text("# Rules\n\nBe brief about {{word}}.\n")
    (tmp_path / "prompts" / "chat.json").write_text(
        '[{"role": "system", "content": "You translate."},'
        ' {"role": "user", "content": "{{word}} in French"}]'
    )
    (tmp_path / "prompts" / "multi.json").write_text(
        '[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},'
        ' {"role": "user", "content": "{{word}}"}]'
    )
    conversion = _convert(
        tmp_path,
        """\
description: Demo
prompts:
  - file://prompts/two.txt
  - file://prompts/system.md
  - file://prompts/chat.json
  - file://prompts/multi.json
  - {raw: 'Shout {{word | upper}}', label: shouting}
  - {id: file://prompts/system.md, label: rules@v2}
  - file://prompts/*.txt
  - file://prompt_fn.py:make_prompt
  - 'Data: {{word | dump}}'
providers: [openai:gpt-4o-mini]
tests: [{vars: {word: hi}}]
""",
    )
    prompts = {prompt["name"]: prompt for prompt in conversion.suite["prompts"]}
    assert list(prompts) == [
        "demo.two-1",
        "demo.two-2",
        "demo.system",
        "demo.chat",
        "demo.shouting",
        "demo.rules at v2",
        "demo.prompt-7",
    ]
    marked = "{# nunjucks #}\n"  # rendered with Nunjucks' filters
    assert prompts["demo.two-2"]["text"] == marked + "Second {{word}}"
    assert prompts["demo.system"]["text"] == marked + "# Rules\n\nBe brief about {{word}}."
    assert prompts["demo.chat"]["sections"] == {
        "role": marked + "You translate.",
        "task": marked + "{{word}} in French",
    }
    assert prompts["demo.shouting"]["text"] == marked + "Shout {{word | upper}}"
    assert prompts["demo.prompt-7"]["text"] == marked + "Data: {{word | dump}}"
    assert _omitted(conversion) == [
        "prompts[3]: chat prompt (user, assistant, user)",
        "prompts[6]: file://prompts/*.txt",
        "prompts[7]: file://prompt_fn.py:make_prompt",
    ]
    assert not conversion.notes


def test_a_prompt_llmbench_cannot_render_is_listed(tmp_path: Path) -> None:
    conversion = _convert(
        tmp_path,
        "prompts: ['{{ word }', 'Fine {{ word }}']\nproviders: [echo]\n"
        "tests: [{vars: {word: a}}]\n",
    )
    assert [p["text"] for p in conversion.suite["prompts"]] == ["{# nunjucks #}\nFine {{ word }}"]
    (item,) = conversion.omitted
    assert item.where == "prompts[0]" and "not a template llmbench can render" in item.why


# -- tests and defaultTest -------------------------------------------------------------------


def test_default_test_is_merged_into_every_test(tmp_path: Path) -> None:
    conversion = _convert(
        tmp_path,
        """\
prompts: ['{{greeting}} {{word}}']
providers: [openai:gpt-4o-mini]
defaultTest:
  vars: {greeting: Hello, word: world}
  assert:
    - {type: not-icontains, value: as an ai}
    - {type: javascript, value: 'output.length < 10'}
  options:
    provider: {id: openai:gpt-4o, config: {temperature: 0}}
tests:
  - vars: {word: there}
    assert: [{type: contains, value: there}]
  - description: defaults only
evaluateOptions: {maxConcurrency: 4, repeat: 2, delay: 100}
""",
    )
    suite = conversion.suite
    assert [t["vars"] for t in suite["tests"]] == [
        {"greeting": "Hello", "word": "there"},
        {"greeting": "Hello", "word": "world"},
    ]
    assert suite["checks"] == [
        {"type": "icontains", "value": "as an ai", "negate": True},
        {"type": "javascript", "value": "output.length < 10"},
    ]
    assert suite["tests"][0]["checks"] == [{"type": "contains", "value": "there"}]
    assert suite["judge"] == {"model": "openai/gpt-4o", "params": {"temperature": 0}}
    assert (suite["concurrency"], suite["repeat"]) == (4, 2)
    assert _omitted(conversion) == ["evaluateOptions: delay"]


def test_transforms_and_thresholds_convert_to_the_suites_own(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "shape.py").write_text(
        "def get_transform(output, context):\n    return output\n", encoding="utf-8"
    )
    (tmp_path / "lib" / "pick.js").write_text("module.exports.first = (o) => o;\n", "utf-8")
    conversion = _convert(
        tmp_path,
        MINIMAL
        + """defaultTest:
  assert: [{type: icontains, value: hi}]
  options: {transform: output.trim()}
  threshold: 0.25
tests:
  - vars: {word: hi}
    options: {transform: file://lib/shape.py}
    threshold: 0.5
    assert:
      - {type: contains, value: hi, transform: "file://lib/pick.js:first"}
  - vars: {word: ho}
    options: {postprocess: output.toUpperCase()}
    assert: [{type: contains, value: HO, transform: output.slice(1)}]
""",
    )
    suite = conversion.suite
    assert not conversion.omitted
    assert (suite["transform"], suite["threshold"]) == ("output.trim()", 0.25)
    assert suite["checks"] == [{"type": "icontains", "value": "hi"}]
    first, second = suite["tests"]
    assert first["transform"] == f"file://{tmp_path / 'lib' / 'shape.py'}"
    assert first["threshold"] == 0.5
    assert first["checks"] == [
        {
            "type": "contains",
            "value": "hi",
            "transform": f"file://{tmp_path / 'lib' / 'pick.js'}:first",
        }
    ]
    assert second["transform"] == "output.toUpperCase()" and "threshold" not in second
    assert second["checks"][0]["transform"] == "output.slice(1)"
    # Written relative to the suite, read back as `llmbench eval` reads it.
    text = suite_text(conversion, tmp_path / "out" / "suite.eval.yaml")
    assert "transform: file://../lib/shape.py\n" in text
    assert "transform: file://../lib/pick.js:first\n" in text
    (tmp_path / "out").mkdir()
    written = tmp_path / "out" / "suite.eval.yaml"
    written.write_text(text, encoding="utf-8")
    doc = load_suite(written)
    assert doc.grading == {"transform": "output.trim()", "threshold": 0.25}
    assert doc.tests[0].grading == {
        "transform": f"file://{tmp_path / 'lib' / 'shape.py'}",
        "threshold": 0.5,
    }


def test_a_bad_transform_or_threshold_is_a_problem_with_its_line(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        MINIMAL
        + """tests:
  - vars: {word: hi}
    options: {transform: file://shape.rb}
    assert: [{type: contains, value: hi}]
  - vars: {word: ho}
    threshold: high
    assert: [{type: contains, value: ho}]
""",
    )
    config = tmp_path / "promptfooconfig.yaml"
    assert problems == [
        f"{config}:5: tests[0].options.transform: a transform file must end in .js, .cjs, .mjs"
        " or .py: 'shape.rb'",
        f"{config}:8: tests[1].threshold must be a number, got 'high'",
    ]


def test_list_vars_expand_into_one_test_per_combination(tmp_path: Path) -> None:
    conversion = _convert(
        tmp_path,
        MINIMAL
        + "tests:\n  - vars: {word: [a, b], n: [1, 2, 3]}\n"
        + "    assert: [{type: contains, value: '{{word}}'}]\n",
    )
    tests = conversion.suite["tests"]
    assert len(tests) == 6
    assert {(t["vars"]["word"], t["vars"]["n"]) for t in tests} == {
        (w, n) for w in "ab" for n in (1, 2, 3)
    }
    assert all(t["checks"] == [{"type": "contains", "value": "{{word}}"}] for t in tests)


def test_no_tests_runs_each_prompt_once_with_the_default_vars(tmp_path: Path) -> None:
    (tmp_path / "word.md").write_text("hi", encoding="utf-8")
    conversion = _convert(tmp_path, MINIMAL + "defaultTest: {vars: {word: file://word.md}}\n")
    assert conversion.suite["tests"] == [{"vars": {"word": "hi"}}]


def test_tests_from_csv_yaml_and_jsonl_files(tmp_path: Path) -> None:
    (tmp_path / "cases.csv").write_text(
        "word,__expected,__expected2,__description,__metadata:topic,__prefix\n"
        "Paris,Paris,icontains: par,capital,geo,\n"
        'Rome,"contains-any: Rome,Roma",fn: output.length > 2,,,Say:\n',
        encoding="utf-8",
    )
    (tmp_path / "more.yaml").write_text(
        "- vars: {word: Oslo}\n  assert: [{type: starts-with, value: Os}]\n"
        "- vars: {word: Bern}\n  options: {prefix: x}\n",
        encoding="utf-8",
    )
    (tmp_path / "lines.jsonl").write_text(
        '{"vars": {"word": "Kyiv"}, "assert": [{"type": "is-json"}]}\n\n'
        '{"vars": {"word": "Riga"}, "assert": [{"type": "python", "value": "True"}]}\n',
        encoding="utf-8",
    )
    (tmp_path / "long.txt").write_text("A long text\n", encoding="utf-8")
    conversion = _convert(
        tmp_path,
        MINIMAL
        + """\
tests:
  - file://cases.csv
  - file://more.yaml
  - file://lines.jsonl
  - vars: {word: file://long.txt}
  - file://generate_tests.py
""",
    )
    tests = conversion.suite["tests"]
    assert [t["vars"]["word"] for t in tests] == [
        "Paris",
        "Rome",
        "Oslo",
        "Bern",
        "Kyiv",
        "Riga",
        "A long text\n",
    ]
    paris, rome = tests[0], tests[1]
    assert paris["expected"] == "Paris" and paris["description"] == "capital"
    assert paris["checks"] == [
        {"type": "equals", "value": "Paris"},
        {"type": "icontains", "value": "par"},
    ]
    assert paris["tags"] == {"topic": "geo"}
    assert rome["checks"] == [
        {"type": "contains-any", "value": ["Rome", "Roma"]},
        {"type": "javascript", "value": "output.length > 2"},
    ]
    assert tests[2]["checks"] == [{"type": "starts-with", "value": "Os"}]
    assert tests[4]["checks"] == [{"type": "is-json"}]
    omitted = [str(item) for item in conversion.omitted]
    csv_file = tmp_path / "cases.csv"
    assert f"{csv_file}:3: row 3: __prefix — prompt prefixes and suffixes are not converted" in (
        omitted
    )
    assert tests[5]["checks"] == [{"type": "python", "value": "True"}]
    assert any("more.yaml[1].options: prefix — prompt prefixes" in item for item in omitted)
    assert any("tests[4]: file://generate_tests.py" in item for item in omitted)


def test_test_fields_without_a_place_are_listed(tmp_path: Path) -> None:
    conversion = _convert(
        tmp_path,
        MINIMAL
        + """\
tests:
  - vars: {word: a}
    providers: [fast]
    metadata: {difficulty: easy, score: 3}
scenarios: [{config: []}]
extensions: [file://hooks.py:hook]
env: {OPENAI_API_KEY: sk-not-to-be-shown}
""",
    )
    assert conversion.suite["tests"][0]["tags"] == {"difficulty": "easy", "score": "3"}
    assert _omitted(conversion) == [
        "scenarios: scenarios",
        "extensions: extensions",
        "env: env (OPENAI_API_KEY)",
        "tests[0]: providers",
    ]
    assert "sk-not" not in suite_text(conversion)


# -- bad configs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("prompts: ['a'\nproviders: [echo]\n", ":2: invalid YAML"),
        ("- just a list\n", ":1: the promptfoo config must be a mapping"),
        (
            "prompts: ['a']\nprompts: ['b']\nproviders: [echo]\n",
            ":2: the promptfoo config: duplicate key",
        ),
        ("prompts: 5\nproviders: [echo]\n", ":1: prompts must be a list"),
        ("prompts: ['a']\nproviders: [echo]\ntests: {vars: {}}\n", ":3: tests must be a list"),
        (
            "prompts: ['a']\nproviders: [echo]\ntests: [{assert: [contains]}]\n",
            ":3: tests[0].assert[0]: an assertion must be a mapping",
        ),
        (
            "prompts: ['a']\nproviders: [echo]\ntests: [{vars: [a]}]\n",
            ":3: tests[0].vars must be a mapping",
        ),
        (
            "prompts: [file://missing.txt]\nproviders: [echo]\n",
            ":1: prompts[0]: cannot read file://missing.txt",
        ),
        ("prompts: ['a']\n", ":1: the config names no providers"),
        ("providers: [echo]\n", ":1: the config has no prompts"),
        (
            "prompts: ['a']\nproviders: [echo]\nevaluateOptions: {repeat: many}\n",
            ":3: evaluateOptions.repeat must be a whole number",
        ),
        (
            "prompts: ['a']\nproviders: [echo]\ntests: [file://t.csv]\n",
            ":3: tests[0]: cannot read file://t.csv",
        ),
        (
            "prompts: ['a']\nproviders: ['exec:x']\n",
            ":1: nothing to run: no providers could be converted",
        ),
    ],
)
def test_bad_configs_are_refused_with_file_and_line(
    tmp_path: Path, text: str, message: str
) -> None:
    problems = _problems(tmp_path, text)
    assert any(message in problem for problem in problems), problems


def test_a_csv_row_of_the_wrong_width_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("word,__expected\na,b\nc\n", encoding="utf-8")
    problems = _problems(tmp_path, MINIMAL + "tests: file://t.csv\n")
    assert problems == [f"{tmp_path / 't.csv'}:3: 1 fields where the header has 2"]


def test_nothing_to_run_lists_what_was_not_converted(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "prompts: [file://make.js]\nproviders: [echo]\n")
    assert any("nothing to run: no prompts could be converted" in p for p in problems)
    assert any("not converted: prompts[0]: file://make.js" in p for p in problems)


def test_the_written_suite_is_checked_like_llmbench_eval_reads_it(tmp_path: Path) -> None:
    conversion = _convert(tmp_path, MINIMAL + "tests: [{vars: {word: hi}}]\n")
    text = suite_text(conversion)
    check_suite_text(text, tmp_path / "out.eval.yaml")
    assert not is_converted_suite(tmp_path / "promptfooconfig.yaml")


def test_targets_and_prompts_by_label_and_a_model_run_once(tmp_path: Path) -> None:
    conversion = _convert(
        tmp_path,
        """\
description: Labels
prompts:
  'Say {{word}}': short
  'Please say {{word}}': polite
targets: [openai:gpt-4o-mini, openai:chat:gpt-4o-mini]
tests: [{vars: {word: hi}}]
""",
    )
    assert [p["name"] for p in conversion.suite["prompts"]] == ["labels.short", "labels.polite"]
    assert conversion.suite["models"] == ["openai/gpt-4o-mini"]
    (note,) = conversion.notes
    assert (note.where, note.why) == ("providers[1]", "also runs as openai/gpt-4o-mini: run once")
    both = "prompts: ['a']\nproviders: [echo]\ntargets: [echo]\n"
    assert any("give providers or targets, not both" in p for p in _problems(tmp_path, both))
