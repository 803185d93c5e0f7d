"""Structured logs (structlog over the standard library, so uvicorn's and SQLAlchemy's records
come out in the same shape): JSON lines for machines, a readable console for people.

JSON in production and whenever stderr is not a terminal (a container, a file, a pipe), never
with colour codes; colours only on a terminal. A request's id is bound for its whole duration,
so every line logged while serving it carries `request_id`.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor

# uvicorn adds a copy of its message with ANSI colours for its own formatter; never ours.
_COLOURED_EXTRAS = ("color_message",)


def _drop_coloured_copies(_: Any, __: str, event: EventDict) -> EventDict:
    for key in _COLOURED_EXTRAS:
        event.pop(key, None)
    return event


def wants_json(json_logs: bool | None, production: bool, stream: TextIO) -> bool:
    if production:
        return True
    if json_logs is not None:
        return json_logs
    return not stream.isatty()


def configure_logging(json_logs: bool | None, production: bool = False, stream: TextIO | None = None) -> None:
    stream = stream or sys.stderr
    as_json = wants_json(json_logs, production, stream)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        _drop_coloured_copies,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
    ]
    renderer: Processor
    if as_json:
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False, default=str)
        tail: list[Processor] = [structlog.processors.format_exc_info, renderer]
    else:
        # Plain tracebacks: rich's show every frame's local variables, which may hold secrets
        # (keys, passwords, tokens), and rendering them took seconds per logged error.
        renderer = structlog.dev.ConsoleRenderer(
            colors=stream.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
        tail = [renderer]
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)  # a library's warning is a log line too, not raw text on stderr
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
