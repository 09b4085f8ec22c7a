"""[otel] in the config file: where spans go, whether bodies go with them, and the queue."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmbench.config import ConfigError, load_settings, parse_settings, render_settings
from llmbench.gateway.otel_spans import NO_SINK, span_sink, traces_url


def test_otel_settings_are_read_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "[otel]\n"
        'endpoint = "https://otel.example.com:4318"\n'
        "include_bodies = true\n"
        'headers = { "x-tenant" = "support" }\n'
        "max_queue_size = 100\n",
        encoding="utf-8",
    )
    otel = load_settings(path).otel
    assert otel.endpoint == "https://otel.example.com:4318"
    assert otel.include_bodies and otel.headers == {"x-tenant": "support"}
    assert otel.max_queue_size == 100 and otel.timeout_s == 10.0
    shown = render_settings(load_settings(path))
    assert "[otel]" in shown and 'endpoint = "https://otel.example.com:4318"' in shown


def test_by_default_nothing_is_sent() -> None:
    otel = parse_settings({}).otel
    assert otel.endpoint == "" and not otel.include_bodies
    assert span_sink(otel) is NO_SINK


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"endpoint": "localhost:4318"}, r"must be an http\(s\) URL"),
        ({"max_queue_size": 0}, "must be above 0"),
        ({"include_bodies": "yes"}, "must be true or false"),
        ({"sample": 1}, "unknown setting"),
    ],
)
def test_bad_otel_settings_name_what_is_wrong(section: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_settings({"otel": section})


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        ("http://localhost:4318", "http://localhost:4318/v1/traces"),
        ("http://localhost:4318/", "http://localhost:4318/v1/traces"),
        ("https://cloud.langfuse.com/api/public/otel/v1/traces", None),
    ],
)
def test_the_traces_path_is_added_to_a_base_url_only(endpoint: str, url: str | None) -> None:
    assert traces_url(endpoint) == (url or endpoint)
