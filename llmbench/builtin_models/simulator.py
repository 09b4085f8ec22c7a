"""The built-in offline models, as pure functions: what they answer, how long they take and
when they fail. The gateway's litellm adapter only turns these plans into responses.

Models:
  llmbench/echo  answers with the prompt: the content of a single message verbatim, or every
                 message as "role: content" blocks when there are several.
  llmbench/mock  answers with deterministic prose related to the prompt, or with a JSON object
                 when the prompt asks for JSON (it mentions JSON, or response_format is
                 json_object / json_schema; a json_schema's properties are followed).

The same request (model, messages and params other than the controls below) always gets the
same answer; another prompt gets another answer. max_tokens / max_completion_tokens cut the
answer at that many tokens with finish_reason "length" (the cut answer is a prefix of the
full one).

Control params (passed like any other completion param, never part of the seed):
  mock_latency_ms     typical latency; each request gets a fixed latency in [0.5x, 1.5x]
  mock_ttft_ms        time to first token when streaming (default: 30% of the latency)
  mock_fail           "rate_limit" (429 with Retry-After) | "timeout" | "server" (500)
  mock_fail_rate      share of requests that fail, 0..1, decided by the request's seed
                      (default 1 when mock_fail is given, else 0; without mock_fail the kind
                      of failure is also picked by the seed)
  mock_fail_attempts  only the first N attempts of an identical request fail, so a retry
                      can succeed
  mock_retry_after    the Retry-After of a simulated 429, in seconds (default 2)
A simulated timeout hangs until the request's own timeout, as a stuck server would.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from llmbench.builtin_models.guard_verdict import guard_verdict
from llmbench.builtin_models.json_template import fill_template, find_template
from llmbench.builtin_models.prompt_rewrite import prompt_rewrite
from llmbench.builtin_models.schema_values import value_from_schema
from llmbench.builtin_models.tool_use import SimulatedToolCall, planned_tool_calls
from llmbench.core.tokens import count_tokens, truncate_to_tokens

PROVIDER = "llmbench"
ECHO_MODEL = "llmbench/echo"
MOCK_MODEL = "llmbench/mock"
SIMULATOR_MODELS: tuple[str, ...] = (ECHO_MODEL, MOCK_MODEL)

FailureKind = Literal["rate_limit", "timeout", "server"]
FAILURE_KINDS: tuple[FailureKind, ...] = ("rate_limit", "timeout", "server")
FinishReason = Literal["stop", "length", "tool_calls"]

CONTROL_PARAMS = frozenset(
    {
        "mock_latency_ms",
        "mock_ttft_ms",
        "mock_fail",
        "mock_fail_rate",
        "mock_fail_attempts",
        "mock_retry_after",
    }
)
# Params that change how an answer is delivered or cut, not what it says.
_DELIVERY_PARAMS = frozenset(
    {
        "stream",
        "stream_options",
        "max_tokens",
        "max_completion_tokens",
        "max_retries",
        "num_retries",
        "timeout",
        "request_timeout",
        "api_key",
        "api_base",
        "base_url",
        "extra_headers",
        "user",
        "metadata",
    }
)

DEFAULT_RETRY_AFTER_S = 2.0
DEFAULT_TTFT_SHARE = 0.3


class SimulatorParamError(ValueError):
    """A control param has a value the simulator cannot use."""


@dataclass(frozen=True)
class SimulatorSettings:
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    fail: FailureKind | None = None
    fail_rate: float = 0.0
    fail_attempts: int | None = None
    retry_after_s: float = DEFAULT_RETRY_AFTER_S
    max_tokens: int | None = None


@dataclass(frozen=True)
class SimulatedReply:
    text: str
    finish_reason: FinishReason
    latency_ms: float  # total time the simulated model takes
    ttft_ms: float  # time before the first streamed chunk
    chunks: tuple[str, ...]  # the text split as a streaming server would send it
    seed: int  # identifies the request: equal requests have equal seeds
    tool_calls: tuple[SimulatedToolCall, ...] = ()  # instead of text (mock, tools sent)


def _number(params: Mapping[str, object], name: str, default: float) -> float:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise SimulatorParamError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise SimulatorParamError(f"{name} must be a number, got {value!r}") from None
    if number < 0:
        raise SimulatorParamError(f"{name} must not be negative, got {value!r}")
    return number


def _optional_int(params: Mapping[str, object], *names: str) -> int | None:
    for name in names:
        value = params.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SimulatorParamError(f"{name} must be a positive integer, got {value!r}")
        return value
    return None


def parse_settings(params: Mapping[str, object]) -> SimulatorSettings:
    fail = params.get("mock_fail")
    if fail is not None and fail not in FAILURE_KINDS:
        raise SimulatorParamError(
            f"mock_fail must be one of {', '.join(FAILURE_KINDS)}, got {fail!r}"
        )
    fail_rate = _number(params, "mock_fail_rate", 1.0 if fail is not None else 0.0)
    if fail_rate > 1:
        raise SimulatorParamError(f"mock_fail_rate must be between 0 and 1, got {fail_rate}")
    ttft = params.get("mock_ttft_ms")
    return SimulatorSettings(
        latency_ms=_number(params, "mock_latency_ms", 0.0),
        ttft_ms=None if ttft is None else _number(params, "mock_ttft_ms", 0.0),
        fail=fail,  # type: ignore[arg-type]  # checked against FAILURE_KINDS above
        fail_rate=fail_rate,
        fail_attempts=_optional_int(params, "mock_fail_attempts"),
        retry_after_s=_number(params, "mock_retry_after", DEFAULT_RETRY_AFTER_S),
        max_tokens=_optional_int(params, "max_tokens", "max_completion_tokens"),
    )


def request_seed(
    model: str, messages: Sequence[Mapping[str, object]], params: Mapping[str, object]
) -> int:
    """A stable hash of what the request asks, so equal requests get equal answers."""
    content_params = {
        key: value
        for key, value in params.items()
        if key not in CONTROL_PARAMS and key not in _DELIVERY_PARAMS
    }
    canonical = json.dumps(
        [model, list(messages), content_params], sort_keys=True, default=repr, ensure_ascii=False
    )
    return int.from_bytes(hashlib.sha256(canonical.encode()).digest()[:8], "big")


def _unit(seed: int, *salt: object) -> float:
    """A deterministic number in [0, 1) for this seed and salt."""
    digest = hashlib.sha256(repr((seed, *salt)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def planned_failure(settings: SimulatorSettings, seed: int, attempt: int) -> FailureKind | None:
    """The failure this attempt (0 = first) of the request meets, if any."""
    if settings.fail_rate <= 0:
        return None
    if settings.fail_attempts is not None and attempt >= settings.fail_attempts:
        return None
    if _unit(seed, "fail", attempt) >= settings.fail_rate:
        return None
    if settings.fail is not None:
        return settings.fail
    return FAILURE_KINDS[int(_unit(seed, "kind", attempt) * len(FAILURE_KINDS))]


def planned_latency_ms(settings: SimulatorSettings, seed: int) -> float:
    return settings.latency_ms * (0.5 + _unit(seed, "latency"))


# --- what the models say ---------------------------------------------------------------------

_STOPWORDS = frozenset(
    """
    about above after again against also answer because been before being below between
    both could does doing down during each every from further have having here into itself
    just more most much must only other ought over same shall should some such than that
    their theirs them then there these they this those through under until very were what
    when where which while whom will with within without would your yours please following
    give write make tell explain describe return respond using given json based short brief
    output format answer question classify summarise summarize translate generate create
    provide include list keys fields field text following article review explain
    """.split()  # noqa: SIM905  # a word list reads better as prose
)
_FALLBACK_TOPICS = ("the request", "the context", "the task", "the goal")

_SENTENCES = (
    "The key point about {a} is that it depends on {b}.",
    "In practice, {a} and {b} are best considered together.",
    "A careful look at {a} suggests a simpler approach than it first appears.",
    "The role of {a} matters most where {b} is involved.",
    "One common mistake is to treat {a} as separate from {b}.",
    "It helps to start with {a} and only then turn to {b}.",
    "Evidence about {a} is mixed, so any claim about {b} should stay modest.",
    "For most readers, {a} is the part worth remembering.",
    "There is a trade-off between {a} and {b} that deserves attention.",
    "Any change in {a} tends to show up in {b} as well.",
    "A short example makes the idea of {a} easier to follow.",
    "Seen from the side of {b}, the question of {a} looks less pressing.",
    "Most of the difficulty with {a} comes from {b}.",
    "To summarise, focus on {a} first, then revisit {b}.",
)

_NUMBER_KEY = re.compile(
    r"(score|rating|count|total|number|num|age|year|price|amount|quantity|rank|level|"
    r"index|size|length|duration|tokens)$|^(n|num)_"
)
_FRACTION_KEY = re.compile(r"(confidence|probability|ratio|share|likelihood|weight)$")
_BOOL_KEY = re.compile(r"^(is|has|can|should|was)_|(passed|valid|correct|success|ok|flag)$")
_LIST_KEY = re.compile(r"(items|list|tags|steps|examples|reasons|keywords|names|points|ideas)$")
_EXAMPLE_JSON_KEY = re.compile(r"[\"']([A-Za-z_]\w{0,39})[\"']\s*:")
_KEY_PHRASE = re.compile(r"\b(?:keys?|fields?|properties|attributes)\b([^.\n]*)", re.IGNORECASE)
_QUOTED_IDENTIFIER = re.compile(r"[\"'`]([A-Za-z_]\w{0,39})[\"'`]")
_LABEL_VALUES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"sentiment|tone|mood"), ("positive", "negative", "neutral", "mixed")),
    (re.compile(r"verdict|decision|result|outcome"), ("pass", "fail")),
    (re.compile(r"priority|severity|risk"), ("low", "medium", "high")),
    (re.compile(r"language|lang"), ("en", "fr", "de", "es")),
)
_LABEL_KEY = re.compile(r"(label|category|class|type|topic|kind|title|name)$")
_WORD = re.compile(r"[A-Za-z][A-Za-z-]{3,}")


def _message_text(message: Mapping[str, object]) -> str:
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text", "")) if isinstance(part, Mapping) else str(part)
            for part in content
        )
    return str(content)


def echo_text(messages: Sequence[Mapping[str, object]]) -> str:
    if len(messages) == 1:
        return _message_text(messages[0])
    return "\n\n".join(
        f"{message.get('role', 'user')}: {_message_text(message)}" for message in messages
    )


def _prompt_text(messages: Sequence[Mapping[str, object]]) -> str:
    return "\n".join(_message_text(message) for message in messages)


def _last_user_text(messages: Sequence[Mapping[str, object]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return _message_text(message)
    return _prompt_text(messages)


def keywords(text: str, limit: int = 8) -> list[str]:
    """Distinctive words of the prompt, in order of first appearance."""
    found: list[str] = []
    for word in _WORD.findall(text):
        lowered = word.lower().strip("-")
        if lowered not in _STOPWORDS and lowered not in found and len(lowered) > 3:
            found.append(lowered)
            if len(found) == limit:
                break
    return found


def _sentence(rng: random.Random, topics: Sequence[str], template: str | None = None) -> str:
    template = template or rng.choice(_SENTENCES)
    a = rng.choice(topics)
    others = [topic for topic in topics if topic != a] or list(_FALLBACK_TOPICS)
    b = rng.choice(others)
    return template.format(a=a, A=a[:1].upper() + a[1:], b=b)


def _prose(rng: random.Random, topics: Sequence[str], prompt_words: int) -> str:
    # Longer prompts tend to get longer answers; a few sentences at the least.
    sentence_count = rng.randint(3, 6) + min(prompt_words // 60, 6)
    # Templates drawn without replacement, so no sentence shape repeats within an answer.
    templates = rng.sample(_SENTENCES, sentence_count)
    sentences = [_sentence(rng, topics, template) for template in templates]
    if sentence_count < 6:
        return " ".join(sentences)
    middle = sentence_count // 2
    return " ".join(sentences[:middle]) + "\n\n" + " ".join(sentences[middle:])


def wants_json(messages: Sequence[Mapping[str, object]], params: Mapping[str, object]) -> bool:
    response_format = params.get("response_format")
    if isinstance(response_format, Mapping) and response_format.get("type") in (
        "json_object",
        "json_schema",
    ):
        return True
    return re.search(r"\bjson\b", _prompt_text(messages), re.IGNORECASE) is not None


def _schema(params: Mapping[str, object]) -> Mapping[str, object] | None:
    response_format = params.get("response_format")
    if not isinstance(response_format, Mapping) or response_format.get("type") != "json_schema":
        return None
    wrapper = response_format.get("json_schema")
    if isinstance(wrapper, Mapping) and isinstance(wrapper.get("schema"), Mapping):
        return wrapper["schema"]  # type: ignore[return-value]  # checked just above
    return None


def _value_for_key(key: str, rng: random.Random, topics: Sequence[str]) -> object:
    lowered = key.lower()
    if _FRACTION_KEY.search(lowered):
        return round(rng.uniform(0.5, 0.99), 2)
    if _NUMBER_KEY.search(lowered):
        return rng.randint(1, 10)
    if _BOOL_KEY.search(lowered):
        return rng.random() < 0.7
    if _LIST_KEY.search(lowered):
        return [rng.choice(topics) for _ in range(rng.randint(2, 4))]
    for pattern, values in _LABEL_VALUES:
        if pattern.search(lowered):
            return rng.choice(values)
    if _LABEL_KEY.search(lowered):
        return rng.choice(topics)
    return _sentence(rng, topics)


def json_keys(prompt: str, topics: Sequence[str]) -> list[str]:
    """Keys the prompt asks for: those of an example object, those named after "keys" /
    "fields", else an answer plus keys made from the prompt's own words."""
    example_keys = _EXAMPLE_JSON_KEY.findall(prompt)
    if example_keys:
        return list(dict.fromkeys(example_keys))
    named: list[str] = []
    for phrase in _KEY_PHRASE.findall(prompt):
        named.extend(_QUOTED_IDENTIFIER.findall(phrase))
    if named:
        return list(dict.fromkeys(named))
    derived = [re.sub(r"\W+", "_", topic).strip("_") for topic in topics[:2]]
    return ["answer", *[key for key in derived if key], "confidence"]


def _json_answer(
    messages: Sequence[Mapping[str, object]],
    params: Mapping[str, object],
    rng: random.Random,
    prompt_topics: Sequence[str],
) -> str:
    topics = prompt_topics or _FALLBACK_TOPICS
    schema = _schema(params)
    template = None if schema is not None else find_template(_prompt_text(messages))
    if schema is not None:
        value = value_from_schema(schema, rng, lambda: _sentence(rng, topics))
    elif template is not None:
        value = fill_template(template, rng, lambda: _sentence(rng, topics))
    else:
        keys = json_keys(_prompt_text(messages), prompt_topics)
        value = {key: _value_for_key(key, rng, topics) for key in keys}
    return json.dumps(value, indent=2, ensure_ascii=False)


def mock_text(
    messages: Sequence[Mapping[str, object]], params: Mapping[str, object], seed: int
) -> str:
    verdict = guard_verdict(messages)  # the input guard's model check, answered by its rules
    if verdict is not None:
        return verdict
    rewrite = prompt_rewrite(messages)  # the optimizer's rewrite request, answered by rules
    if rewrite is not None:
        return rewrite
    rng = random.Random(seed)
    question = _last_user_text(messages)
    prompt_topics = keywords(question) or keywords(_prompt_text(messages))
    if wants_json(messages, params):
        return _json_answer(messages, params, rng, prompt_topics)
    return _prose(rng, prompt_topics or _FALLBACK_TOPICS, len(question.split()))


def stream_chunks(text: str, seed: int) -> tuple[str, ...]:
    """Split text into pieces of one to three words, as servers stream them; joined, the
    pieces give back the text exactly."""
    pieces = re.findall(r"\s+|\S+\s*", text)
    rng = random.Random(seed ^ 0x5EED)
    chunks: list[str] = []
    index = 0
    while index < len(pieces):
        size = rng.randint(1, 3)
        chunks.append("".join(pieces[index : index + size]))
        index += size
    return tuple(chunks)


def simulate(
    model: str,
    messages: Sequence[Mapping[str, object]],
    params: Mapping[str, object],
    settings: SimulatorSettings | None = None,
) -> SimulatedReply:
    """The answer of a simulator model; raises SimulatorParamError for bad control params
    and LookupError for a model that is not one of SIMULATOR_MODELS."""
    if model not in SIMULATOR_MODELS:
        known = ", ".join(SIMULATOR_MODELS)
        raise LookupError(f"unknown model {model!r}; built-in models: {known}")
    settings = settings or parse_settings(params)
    seed = request_seed(model, messages, params)
    tool_calls: tuple[SimulatedToolCall, ...] = ()
    if model == MOCK_MODEL:
        words = keywords(_last_user_text(messages)) or keywords(_prompt_text(messages))
        tool_calls = planned_tool_calls(messages, params, seed, words)
    if tool_calls:
        full = ""
    else:
        full = echo_text(messages) if model == ECHO_MODEL else mock_text(messages, params, seed)
    text = full
    finish_reason: FinishReason = "tool_calls" if tool_calls else "stop"
    if settings.max_tokens is not None and count_tokens(full, model) > settings.max_tokens:
        text = truncate_to_tokens(full, settings.max_tokens, model)
        finish_reason = "length"
    latency = planned_latency_ms(settings, seed)
    ttft = settings.ttft_ms if settings.ttft_ms is not None else latency * DEFAULT_TTFT_SHARE
    return SimulatedReply(
        text=text,
        finish_reason=finish_reason,
        latency_ms=max(latency, ttft),
        ttft_ms=ttft,
        chunks=stream_chunks(text, seed),
        seed=seed,
        tool_calls=tool_calls,
    )
