"""JSON log lines without colour codes in production and off a terminal; colours only on one;
a request's id on every line logged while it is served."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from market.logs import configure_logging


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:], root.level = handlers, level
    logging.captureWarnings(False)


def emit(stream: io.StringIO) -> list[str]:
    # uvicorn sends a coloured copy of its message along; it must never reach the output.
    logging.getLogger("uvicorn.error").info(
        "Started server process [%d]", 7, extra={"color_message": "Started \x1b[36m7\x1b[0m"}
    )
    with structlog.contextvars.bound_contextvars(request_id="req-1"):
        logging.getLogger("market.http").info("request", extra={"status": 201, "path": "/v1/orders"})
    return [line for line in stream.getvalue().splitlines() if line]


def test_production_writes_json_without_escapes_even_on_a_terminal() -> None:
    stream = Terminal()
    configure_logging(json_logs=False, production=True, stream=stream)
    started, request = (json.loads(line) for line in emit(stream))
    assert "\x1b" not in stream.getvalue()
    assert started["event"] == "Started server process [7]" and started["logger"] == "uvicorn.error"
    assert "color_message" not in started
    assert request["request_id"] == "req-1" and request["status"] == 201 and request["level"] == "info"


def test_off_a_terminal_it_is_json_and_on_one_readable_colours() -> None:
    piped = io.StringIO()
    configure_logging(json_logs=None, production=False, stream=piped)
    assert all(json.loads(line) for line in emit(piped)) and "\x1b" not in piped.getvalue()
    terminal = Terminal()
    configure_logging(json_logs=None, production=False, stream=terminal)
    lines = emit(terminal)
    assert "\x1b[" in terminal.getvalue() and "request_id" in lines[1] and "req-1" in lines[1]
    assert "Started server process" in lines[0]
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[1])
