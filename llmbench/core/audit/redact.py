"""Removing secrets from anything before it is written: API keys, bearer tokens, and the exact
values of the keys llmbench itself holds (which catches formats no pattern knows)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MASK = "[REDACTED]"
_MIN_KNOWN_SECRET = 8  # shorter "secrets" would mask ordinary words

# Provider key formats, most specific first, each named for the output guard
# (core/guard_output.py), which reports which kind of key it found. Each is anchored on a prefix
# that ordinary prose does not contain, so redaction never eats normal text.
SECRET_RULES: tuple[tuple[str, str], ...] = (
    ("anthropic_key", r"sk-ant-[A-Za-z0-9_\-]{16,}"),
    ("openai_project_key", r"sk-proj-[A-Za-z0-9_\-]{16,}"),
    ("openai_service_key", r"sk-(?:svcacct|admin)-[A-Za-z0-9_\-]{16,}"),
    ("openrouter_key", r"sk-or-v1-[A-Za-z0-9]{16,}"),
    # OpenAI classic, DeepSeek, many OpenAI-compatible servers
    ("openai_key", r"sk-[A-Za-z0-9_\-]{16,}"),
    ("stripe_key", r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"),
    ("google_api_key", r"AIza[0-9A-Za-z_\-]{35}"),
    ("huggingface_token", r"hf_[A-Za-z0-9]{30,}"),
    ("groq_key", r"gsk_[A-Za-z0-9]{20,}"),
    ("xai_key", r"xai-[A-Za-z0-9]{20,}"),
    ("replicate_token", r"r8_[A-Za-z0-9]{20,}"),
    ("aws_access_key_id", r"(?:AKIA|ASIA)[0-9A-Z]{16}"),
    ("github_token", r"gh[pousr]_[A-Za-z0-9]{30,}"),
    ("github_fine_grained_token", r"github_pat_[A-Za-z0-9_]{40,}"),
    ("slack_token", r"xox[abposre]-[A-Za-z0-9\-]{10,}"),
    ("jwt", r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    # A key cut short (a truncated reply) still leaks: without its END line, up to the end of
    # its base64 lines.
    (
        "private_key",
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----"
        r"(?:[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----|[A-Za-z0-9+/=\r\n]*[A-Za-z0-9+/=])",
    ),
)
# An AWS secret access key is 40 characters of base64 with no prefix: only its label tells it.
AWS_SECRET_PATTERN = (
    r"(?P<aws_label>(?i:aws_?secret(?:_?access)?_?key|secret_?access_?key)[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<aws_secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"
)
# Secrets recognised by what stands before them: the prefix is kept, the value masked.
CONTEXT_PATTERN = (
    r"(?P<keep>(?i:\bbearer)\s+|"
    r"(?i:api[_-]?key|x-api-key|access[_-]token|secret[_-]key|password)[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<value>[A-Za-z0-9_\-\.=:+/]{8,})"
)
_SECRET_PATTERNS = tuple(pattern for _, pattern in SECRET_RULES)
_PATTERN = re.compile(
    AWS_SECRET_PATTERN
    + "|"
    + CONTEXT_PATTERN
    + "|"
    + "|".join(f"(?:{p})" for p in _SECRET_PATTERNS)
)


# Every match of _PATTERN contains one of these (cased) or, lowercased, one of those (folded):
# a text holding none is returned without running the pattern, which at ~25 µs a kilobyte was
# most of the cost of recording a call with tool definitions. A test keeps the lists complete.
_CASED_MARKERS = (
    "sk-",
    "sk_",
    "rk_",
    "AIza",
    "hf_",
    "gsk_",
    "xai-",
    "r8_",
    "AKIA",
    "ASIA",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "xox",
    "eyJ",
    "-----BEGIN",
)
_FOLDED_MARKERS = ("secret", "bearer", "api", "access", "password")


def might_hold_secret(text: str) -> bool:
    """False only when no secret pattern can match `text`."""
    if any(marker in text for marker in _CASED_MARKERS):
        return True
    folded = text.lower()
    return any(marker in folded for marker in _FOLDED_MARKERS)


def _mask(match: re.Match[str]) -> str:
    for label in ("aws_label", "keep"):
        keep = match.group(label)
        if keep is not None:
            return f"{keep}{MASK}"
    return MASK


class Redactor:
    """Masks secret patterns and the exact values of known secrets in text and JSON-like data."""

    def __init__(self, known_secrets: Iterable[str] = ()) -> None:
        secrets = sorted(
            {s for s in known_secrets if s and len(s) >= _MIN_KNOWN_SECRET}, key=len, reverse=True
        )
        self._secrets = tuple(secrets)
        self._known = re.compile("|".join(re.escape(s) for s in secrets)) if secrets else None

    def text(self, value: str) -> str:
        if self._known is not None and any(secret in value for secret in self._secrets):
            value = self._known.sub(MASK, value)
        if not might_hold_secret(value):
            return value
        return _PATTERN.sub(_mask, value)

    def value(self, data: Any) -> Any:
        """Redact strings anywhere inside dicts, lists and tuples; other values pass through."""
        if isinstance(data, str):
            return self.text(data)
        if isinstance(data, dict):
            return {key: self.value(item) for key, item in data.items()}
        if isinstance(data, list | tuple):
            return [self.value(item) for item in data]
        return data


def redact(value: Any, known_secrets: Iterable[str] = ()) -> Any:
    return Redactor(known_secrets).value(value)
