"""Count the SQL statements a request sends the database (each is a round trip): a listener on
the engine's `before_cursor_execute`, so regressions in the hot paths fail CI by number."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event


@contextmanager
def counted(app: Any) -> Iterator[list[str]]:
    """The statements executed on the app's engine while the block runs, in order."""
    seen: list[str] = []
    engine = app.state.engine.sync_engine

    def _count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split())[:160])

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", _count)
