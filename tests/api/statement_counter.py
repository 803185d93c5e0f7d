"""Count the SQL statements a request sends the database (each is a round trip): a listener on
the engine's `before_cursor_execute`, so regressions in the hot paths fail CI by number. On
PostgreSQL the transaction's own BEGIN and COMMIT (or ROLLBACK), which asyncpg sends as queries
of their own, not through a cursor, are counted too: they are round trips as well."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
from sqlalchemy import event


@contextmanager
def counted(app: Any) -> Iterator[list[str]]:
    """The statements executed on the app's engine while the block runs, in order."""
    seen: list[str] = []
    engine = app.state.engine.sync_engine

    def _count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split())[:160])

    send_query = asyncpg.Connection.execute

    async def _count_query(connection: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(" ".join(query.split())[:160])
        return await send_query(connection, query, *args, **kwargs)

    event.listen(engine, "before_cursor_execute", _count)
    asyncpg.Connection.execute = _count_query
    try:
        yield seen
    finally:
        asyncpg.Connection.execute = send_query
        event.remove(engine, "before_cursor_execute", _count)
