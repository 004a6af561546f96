"""Fixtures for the cross-app privacy checks."""

import io
import logging

import pytest

from carnet.core.logging import JsonFormatter


@pytest.fixture
def log_lines():
    """The JSON lines the configured root handler writes while the test runs.

    Reads what operators would read: the real handler, filter and formatter
    from settings.LOGGING, with its stream swapped for a buffer.
    """
    (handler,) = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h.formatter, JsonFormatter)
    ]
    buffer = io.StringIO()
    previous = handler.setStream(buffer)  # type: ignore[attr-defined]

    def lines() -> list[str]:
        return buffer.getvalue().splitlines()

    yield lines
    handler.setStream(previous)  # type: ignore[attr-defined]
