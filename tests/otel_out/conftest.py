"""A real OTLP/HTTP receiver per test, and every span sink stopped after it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llmbench.gateway.otel_spans import close_sinks
from tests.support.otlp_receiver import OtlpReceiver, running_receiver


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with running_receiver() as started:
        yield started


@pytest.fixture(autouse=True)
def sinks_closed() -> Iterator[None]:
    yield
    close_sinks(timeout_s=1.0)
