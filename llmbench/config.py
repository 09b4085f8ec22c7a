"""Settings: a TOML file in the XDG config dir, overridden by LLMBENCH_* environment variables.

Every field is typed and documented; `llmbench config show` prints them with their docs.

The TUI reads them before its first frame: the guard's policy rules (for a [guard] other than
the defaults, which are valid), the routing rules (for [[routes]]) and the TOML parser (for a
file) are imported only when a config needs them (~8 ms otherwise).
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_origin, get_type_hints

from llmbench import paths

if TYPE_CHECKING:
    from llmbench.core.guard.policy import GuardPolicy
    from llmbench.core.traffic.routing import Route


class ConfigError(ValueError):
    """The config file cannot be used; the message names the file and what is wrong."""


def _doc(text: str, **kwargs: Any) -> Any:
    return field(metadata={"doc": text}, **kwargs)


def _default_reviewer() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "reviewer"


@dataclass(frozen=True)
class GeneralSettings:
    reviewer: str = _doc(
        "Name recorded on grades and label moves.", default_factory=_default_reviewer
    )
    theme: str = _doc("Textual theme name (ctrl+p → 'theme' lists them).", default="textual-dark")
    db: str = _doc(
        "Database path; empty means the XDG data dir. --db and LLMBENCH_DB win.", default=""
    )


@dataclass(frozen=True)
class ModelSettings:
    default_models: tuple[str, ...] = _doc(
        "Models offered first in Compare.", default=("llmbench/mock", "llmbench/echo")
    )
    judge_model: str = _doc("Model used by LLM-as-judge rubrics.", default="llmbench/mock")
    embedding_model: str = _doc("Embedding model for similarity; empty turns it off.", default="")


OPENAI_TRANSPORTS = ("direct", "litellm")


@dataclass(frozen=True)
class GatewaySettings:
    timeout_s: float = _doc(
        "Per-call timeout in seconds (litellm's own default is 600).", default=60.0
    )
    max_retries: int = _doc("Retries after the first attempt, owned by llmbench.", default=3)
    retry_patience_s: float = _doc(
        "Longest Retry-After the gateway waits for; longer ones are reported, not looped on.",
        default=30.0,
    )
    cache_ttl_s: int = _doc("How long cached responses stay valid.", default=86_400)
    semantic_threshold: float = _doc(
        'Cosine similarity from which cache="semantic" reuses the answer to a similar last'
        " user message (needs [models] embedding_model).",
        default=0.95,
    )
    semantic_candidates: int = _doc(
        "Most recent cache entries of the same model, params and context a semantic lookup"
        " compares with.",
        default=200,
    )
    openai_transport: str = _doc(
        'How openai/... models are called: "direct" with the OpenAI SDK (no litellm import,'
        ' about half the CPU per call), or "litellm" like every other provider.',
        default="direct",
    )

    def __post_init__(self) -> None:
        if self.openai_transport not in OPENAI_TRANSPORTS:
            raise ConfigError(
                f"[gateway] openai_transport must be one of {', '.join(OPENAI_TRANSPORTS)},"
                f" not {self.openai_transport!r}"
            )


@dataclass(frozen=True)
class PriceOverride:
    input: float = _doc("USD per million input tokens.", default=0.0)
    output: float = _doc("USD per million output tokens.", default=0.0)
    cached: float = _doc("USD per million cached input tokens.", default=0.0)


@dataclass(frozen=True)
class ModelOptions:
    timeout_s: float = _doc("Timeout for this model; 0 uses [gateway] timeout_s.", default=0.0)
    concurrency: int = _doc("Calls in flight at once; 0 is unlimited.", default=0)
    requests_per_minute: float = _doc("Requests per minute; 0 is unlimited.", default=0.0)
    tokens_per_minute: float = _doc(
        "Prompt+completion tokens per minute; 0 is unlimited.", default=0.0
    )
    fallbacks: tuple[str, ...] = _doc("Models tried in order when this one fails.", default=())
    api_base: str = _doc("Base URL, e.g. an OpenAI-compatible local server.", default="")


@dataclass(frozen=True)
class RetentionSettings:
    delete_after_days: int = _doc("Delete calls older than this; 0 keeps them forever.", default=0)
    redact_after_days: int = _doc(
        "Keep metrics but purge prompt and response bodies after this; 0 never.", default=0
    )
    keep_media_bytes: bool = _doc(
        "Keep the bytes of the images, audio and files a request sends (off: only their kind,"
        " media type, size and SHA-256 are recorded); purged with the call's body.",
        default=False,
    )


@dataclass(frozen=True)
class OtelSettings:
    endpoint: str = _doc(
        "OTLP/HTTP collector to send every recorded call to as a GenAI span, e.g."
        ' "http://localhost:4318" (/v1/traces is added); empty sends nothing.',
        default="",
    )
    include_bodies: bool = _doc(
        "Send the messages and the answer too (gen_ai.input/output.messages); off: only"
        " models, tokens, cost, timings, ids and tags.",
        default=False,
    )
    headers: dict[str, str] = field(
        default_factory=dict,
        metadata={
            "doc": "HTTP headers of each export, e.g. a collector's Authorization, over those of"
            " OTEL_EXPORTER_OTLP_TRACES_HEADERS (the better place for a secret: `config show`"
            " prints this file's)."
        },
    )
    service_name: str = _doc("The spans' service.name.", default="llmbench")
    max_queue_size: int = _doc(
        "Spans waiting for the collector at most; past it the oldest are dropped (counted),"
        " so a collector that is down never holds up a call.",
        default=2048,
    )
    timeout_s: float = _doc("How long one export, its retries included, may take.", default=10.0)

    def __post_init__(self) -> None:
        if self.endpoint and not self.endpoint.startswith(("http://", "https://")):
            raise ConfigError(f"[otel] endpoint must be an http(s) URL, not {self.endpoint!r}")
        if self.max_queue_size < 1 or self.timeout_s <= 0:
            raise ConfigError("[otel] max_queue_size and timeout_s must be above 0")


@cache
def config_guard_base() -> GuardPolicy:
    """The config's starting point: the core defaults, except that nothing blocks until the
    user says so (limits and banned phrases block in a prompt's own policy only when set to)."""
    from llmbench.core.guard.policy import DEFAULT_POLICY, GuardPolicy

    return GuardPolicy(
        actions={**DEFAULT_POLICY.actions, "token_limit": "flag", "banned_phrase": "flag"}
    )


@dataclass(frozen=True)
class GuardSettings:
    enabled: bool = _doc("Run the input and output guards on every gateway call.", default=True)
    actions: dict[str, str] = field(
        default_factory=dict,
        metadata={
            "doc": "Finding kind or group (pii, injection_signals, unicode) = allow, flag, redact"
            " or block, over the defaults: injection, invisible, bidi, pii, prompt_leak,"
            " token_limit and banned_phrase flag; secret redacts; the single injection signals"
            " allow; nothing blocks. `llmbench prompts guard NAME --set KIND=ACTION` sets a"
            " prompt's own."
        },
    )
    injection_threshold: float = _doc(
        "Injection score (0-1) from which an input is an injection.", default=0.5
    )
    banned_phrases: tuple[str, ...] = _doc(
        "Phrases no answer may contain (case, accents and spacing ignored).", default=()
    )
    max_tokens_per_request: int = _doc("Token limit of a whole request; 0: none.", default=0)
    max_tokens_per_variable: int = _doc(
        "Token limit of each fenced untrusted value in a request; 0: none.", default=0
    )
    leak_min_words: int = _doc(
        "Words an answer must repeat in a row from the system prompt to be a leak.", default=8
    )
    redact_stored_bodies: bool = _doc(
        "Replace personal data (emails, phones, cards, IBANs, SSNs, IPs) in the stored request"
        " and response bodies; the model and the caller still see them.",
        default=False,
    )
    check_low: float = _doc(
        "The model check's band starts here: an input whose injection score is in"
        " [check_low, check_high) is judged by check_model, whose verdict decides. Both 0: off.",
        default=0.0,
    )
    check_high: float = _doc("The model check's band ends below this score.", default=0.0)
    check_model: str = _doc(
        "The model that judges inputs in the band, called through the gateway (its calls are"
        " rows of their own, task_type guard_check); llmbench/mock judges offline.",
        default="",
    )

    def policy(self) -> GuardPolicy:
        """The default policy of every call (a prompt's own is read over it). Raises
        PolicyError naming the setting that is wrong."""
        from llmbench.core.guard.policy import parse_policy

        return parse_policy(
            {
                "actions": dict(self.actions),
                "injection_threshold": self.injection_threshold,
                "banned_phrases": list(self.banned_phrases),
                "max_tokens_per_request": self.max_tokens_per_request or None,
                "max_tokens_per_variable": self.max_tokens_per_variable or None,
                "leak_min_words": self.leak_min_words,
                "check_low": self.check_low,
                "check_high": self.check_high,
                "check_model": self.check_model,
            },
            base=config_guard_base(),
        )


@dataclass(frozen=True)
class Settings:
    general: GeneralSettings = field(default_factory=GeneralSettings)
    models: ModelSettings = field(default_factory=ModelSettings)
    gateway: GatewaySettings = field(default_factory=GatewaySettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    guard: GuardSettings = field(default_factory=GuardSettings)
    otel: OtelSettings = field(default_factory=OtelSettings)
    prices: dict[str, PriceOverride] = field(
        default_factory=dict, metadata={"doc": 'Per-model price overrides: [prices."gpt-4o"].'}
    )
    model: dict[str, ModelOptions] = field(
        default_factory=dict,
        metadata={"doc": 'Per-model options: [model."gpt-4o"] timeout, limits, fallbacks.'},
    )
    routes: tuple[Route, ...] = field(
        default=(),
        metadata={"doc": "Canary and tier routes: [[routes]] name, prompt/model, key, when, arms."},
    )
    keymap: dict[str, str] = field(
        default_factory=dict,
        metadata={"doc": 'Binding id → keys, e.g. show_costs = "f5,ctrl+5" (see F1 for ids).'},
    )
    source: Path | None = None


_SECTIONS = {
    "general": GeneralSettings,
    "models": ModelSettings,
    "gateway": GatewaySettings,
    "retention": RetentionSettings,
    "guard": GuardSettings,
    "otel": OtelSettings,
}

_ENV_OVERRIDES = {
    "LLMBENCH_REVIEWER": ("general", "reviewer"),
    "LLMBENCH_THEME": ("general", "theme"),
    "LLMBENCH_JUDGE_MODEL": ("models", "judge_model"),
}


def _coerce(where: str, expected: Any, value: Any) -> Any:
    origin = get_origin(expected)
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError(f"{where} must be a table of strings")
        return dict(value)
    if expected is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where} must be a list of strings")
        return tuple(value)
    if expected is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where} must be a number")
        return float(value)
    if expected is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be a whole number")
        return value
    if expected is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string")
        return value
    raise ConfigError(f"{where} has an unsupported type")  # pragma: no cover


def _build(cls: type, where: str, raw: Any) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table")
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{where} has unknown setting(s): {', '.join(unknown)}")
    values = {name: _coerce(f"{where}.{name}", hints[name], value) for name, value in raw.items()}
    return cls(**values)


def _per_model(cls: type, section: str, raw: Any) -> dict[str, Any]:
    """A `[section."model-name"]` table per model, each built as `cls`."""
    if not isinstance(raw, dict):
        raise ConfigError(f"[{section}] must be a table of models")
    return {model: _build(cls, f'[{section}."{model}"]', value) for model, value in raw.items()}


_ROUTE_KEYS = {"name", "prompt", "model", "key", "when", "arms"}
_ARM_KEYS = {"name", "weight", "model", "version"}


def _routes(raw: Any) -> tuple[Route, ...]:
    if not isinstance(raw, list):
        raise ConfigError("routes must be written as [[routes]] tables")
    if not raw:
        return ()
    from llmbench.core.traffic.routing import Arm, Route, RouteError

    routes = []
    for index, entry in enumerate(raw, start=1):
        where = f"[[routes]] #{index}"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ConfigError(f"{where} needs a name")
        unknown = sorted(set(entry) - _ROUTE_KEYS)
        if unknown:
            raise ConfigError(f"{where} has unknown setting(s): {', '.join(unknown)}")
        when = entry.get("when", {})
        arms = entry.get("arms", [])
        if not isinstance(when, dict) or not all(isinstance(v, str) for v in when.values()):
            raise ConfigError(f"{where}: when must map tag names to strings")
        if not isinstance(arms, list) or not all(isinstance(a, dict) for a in arms):
            raise ConfigError(f"{where}: arms must be a list of tables")
        try:
            parsed_arms = []
            for arm in arms:
                if set(arm) - _ARM_KEYS or not isinstance(arm.get("name"), str):
                    raise ConfigError(f"{where}: each arm takes name, weight, model, version")
                parsed_arms.append(
                    Arm(
                        arm["name"],
                        float(arm.get("weight", 100)),
                        str(arm.get("model", "")),
                        str(arm.get("version", "")),
                    )
                )
            routes.append(
                Route(
                    entry["name"],
                    tuple(parsed_arms),
                    prompt=str(entry.get("prompt", "")),
                    model=str(entry.get("model", "")),
                    key=str(entry.get("key", "user")),
                    when=dict(when),
                )
            )
        except (RouteError, TypeError, ValueError) as error:
            raise ConfigError(f"{where}: {error}") from None
    return tuple(routes)


def parse_settings(raw: dict[str, Any], source: Path | None = None) -> Settings:
    label = str(source) if source else "config"
    unknown = sorted(set(raw) - set(_SECTIONS) - {"prices", "keymap", "model", "routes"})
    if unknown:
        raise ConfigError(f"{label}: unknown section(s): {', '.join(unknown)}")
    try:
        sections = {
            name: _build(cls, f"[{name}]", raw.get(name, {})) for name, cls in _SECTIONS.items()
        }
        prices = _per_model(PriceOverride, "prices", raw.get("prices", {}))
        model_options = _per_model(ModelOptions, "model", raw.get("model", {}))
        if sections["guard"] != GuardSettings():  # the defaults are valid (test_config_lazy)
            from llmbench.core.guard.policy import PolicyError

            try:
                sections["guard"].policy()
            except PolicyError as error:
                raise ConfigError(f"[guard] {error}") from None
        routes = _routes(raw.get("routes", []))
        keymap_raw = raw.get("keymap", {})
        if not isinstance(keymap_raw, dict) or not all(
            isinstance(v, str) for v in keymap_raw.values()
        ):
            raise ConfigError("[keymap] must map binding ids to key strings")
    except ConfigError as error:
        raise ConfigError(f"{label}: {error}") from None
    return Settings(
        prices=prices,
        model=model_options,
        routes=routes,
        keymap=dict(keymap_raw),
        source=source,
        **sections,
    )


def _apply_env(raw: dict[str, Any]) -> dict[str, Any]:
    merged = {key: dict(value) if isinstance(value, dict) else value for key, value in raw.items()}
    for variable, (section, name) in _ENV_OVERRIDES.items():
        if variable in os.environ:
            merged.setdefault(section, {})
            if isinstance(merged[section], dict):
                merged[section][name] = os.environ[variable]
    return merged


def load_settings(path: Path | None = None) -> Settings:
    """Read the config file (missing is fine: defaults) and apply LLMBENCH_* overrides."""
    path = path or paths.config_path()
    raw: dict[str, Any] = {}
    if path.exists():
        import tomllib

        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: {error}") from None
        except OSError as error:
            raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    return parse_settings(_apply_env(raw), source=path if path.exists() else None)


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return repr(value)


def _field_doc(name: str) -> str:
    return str(next(f for f in fields(Settings) if f.name == name).metadata["doc"])


def render_settings(settings: Settings) -> str:
    """The effective settings as a commented TOML document."""
    lines = [f"# llmbench settings (file: {settings.source or 'none, defaults in use'})"]
    for name in _SECTIONS:
        section = getattr(settings, name)
        lines.append(f"\n[{name}]")
        for f in fields(section):
            lines.append(f"# {f.metadata['doc']}")
            lines.append(f"{f.name} = {_toml_value(getattr(section, f.name))}")
    lines.append(f"\n# {_field_doc('prices')}")
    for model, price in settings.prices.items():
        lines.append(f'[prices."{model}"]')
        for f in fields(price):
            lines.append(f"{f.name} = {getattr(price, f.name)!r}")
    lines.append(f"\n# {_field_doc('model')}")
    for name, options in settings.model.items():
        lines.append(f'[model."{name}"]')
        for f in fields(options):
            lines.append(f"# {f.metadata['doc']}")
            lines.append(f"{f.name} = {_toml_value(getattr(options, f.name))}")
    lines.append(f"\n[keymap]\n# {_field_doc('keymap')}")
    for binding_id, keys in sorted(settings.keymap.items()):
        lines.append(f"{binding_id} = {_toml_value(keys)}")
    return "\n".join(lines) + "\n"


__all__ = [
    "ConfigError",
    "GuardSettings",
    "OtelSettings",
    "Settings",
    "load_settings",
    "parse_settings",
    "render_settings",
]
