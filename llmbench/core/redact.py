"""Removing secrets from anything before it is written: API keys, bearer tokens, and the exact
values of the keys llmbench itself holds (which catches formats no pattern knows)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MASK = "[REDACTED]"
_MIN_KNOWN_SECRET = 8  # shorter "secrets" would mask ordinary words

# Provider key formats, most specific first. Each is anchored on a prefix that ordinary prose
# does not contain, so redaction never eats normal text.
_SECRET_PATTERNS = (
    r"sk-ant-[A-Za-z0-9_\-]{16,}",  # Anthropic
    r"sk-proj-[A-Za-z0-9_\-]{16,}",  # OpenAI project keys
    r"sk-(?:svcacct|admin)-[A-Za-z0-9_\-]{16,}",  # OpenAI service/admin keys
    r"sk-or-v1-[A-Za-z0-9]{16,}",  # OpenRouter
    r"sk-[A-Za-z0-9_\-]{16,}",  # OpenAI classic, DeepSeek, many OpenAI-compatible servers
    r"AIza[0-9A-Za-z_\-]{35}",  # Google / Gemini
    r"hf_[A-Za-z0-9]{30,}",  # Hugging Face
    r"gsk_[A-Za-z0-9]{20,}",  # Groq
    r"xai-[A-Za-z0-9]{20,}",  # xAI
    r"r8_[A-Za-z0-9]{20,}",  # Replicate
    r"(?:AKIA|ASIA)[0-9A-Z]{16}",  # AWS access key ids
    r"gh[pousr]_[A-Za-z0-9]{30,}",  # GitHub tokens
    r"xox[abprs]-[A-Za-z0-9\-]{10,}",  # Slack tokens
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
)
# Secrets recognised by what stands before them: the prefix is kept, the value masked.
_CONTEXT_PATTERN = (
    r"(?P<keep>(?i:\bbearer)\s+|"
    r"(?i:api[_-]?key|x-api-key|access[_-]token|secret[_-]key|password)[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<value>[A-Za-z0-9_\-\.=:+/]{8,})"
)
_PATTERN = re.compile(_CONTEXT_PATTERN + "|" + "|".join(f"(?:{p})" for p in _SECRET_PATTERNS))


def _mask(match: re.Match[str]) -> str:
    keep = match.group("keep")
    return f"{keep}{MASK}" if keep is not None else MASK


class Redactor:
    """Masks secret patterns and the exact values of known secrets in text and JSON-like data."""

    def __init__(self, known_secrets: Iterable[str] = ()) -> None:
        secrets = sorted(
            {s for s in known_secrets if s and len(s) >= _MIN_KNOWN_SECRET}, key=len, reverse=True
        )
        self._known = re.compile("|".join(re.escape(s) for s in secrets)) if secrets else None

    def text(self, value: str) -> str:
        if self._known is not None:
            value = self._known.sub(MASK, value)
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
