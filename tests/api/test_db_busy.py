"""A busy database: an exhausted pool or a deadlock is a 503 to retry, never a 500."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import exc, text

from market.db.session import make_engine, make_sessionmaker
from market.errors import database_unavailable
from tests.api import runtime_swaps as swaps
from tests.api.test_db_faults import assert_database_unavailable


async def test_an_exhausted_connection_pool_answers_503_with_retry_after(app: Any) -> None:
    url = app.state.settings.effective_database_url
    engine = make_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with swaps.sessionmaker(app, make_sessionmaker(engine)):
        async with engine.connect() as held, httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            await held.execute(text("SELECT 1"))  # the pool's only connection, checked out
            busy = await c.get("/v1/catalog")
            assert_database_unavailable(busy)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            assert (await c.get("/v1/catalog")).status_code == 200  # free again: served again
    await engine.dispose()


@pytest.mark.postgres_only
async def test_a_deadlock_reads_as_busy_so_the_request_is_retried_not_failed(app: Any, backend: str) -> None:
    engine = app.state.engine
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE IF NOT EXISTS deadlock_probe (id int PRIMARY KEY)"))
        await conn.execute(text("INSERT INTO deadlock_probe VALUES (1), (2) ON CONFLICT DO NOTHING"))
    first_locked, second_locked = asyncio.Event(), asyncio.Event()

    async def lock(mine: int, other: int, locked: asyncio.Event, wait_for: asyncio.Event) -> None:
        async with engine.begin() as conn:
            await conn.execute(text("SELECT id FROM deadlock_probe WHERE id = :i FOR UPDATE"), {"i": mine})
            locked.set()
            await wait_for.wait()
            await conn.execute(text("SELECT id FROM deadlock_probe WHERE id = :i FOR UPDATE"), {"i": other})

    try:
        results = await asyncio.gather(
            lock(1, 2, first_locked, second_locked),
            lock(2, 1, second_locked, first_locked),
            return_exceptions=True,
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        assert len(errors) == 1 and isinstance(errors[0], exc.DBAPIError), results
        assert database_unavailable(errors[0])  # 40P01: rolled back whole, safe to retry
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE IF EXISTS deadlock_probe"))
