"""Engine, sessions and the one-transaction-per-request dependency."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from market.errors import MarketError
from market.runtime import Runtime, get_runtime

log = logging.getLogger("market.db")

# How long a request may wait for a new connection, or for a free one from the pool, before it
# is answered 503: a server that silently drops packets must not hold requests for a minute.
CONNECT_TIMEOUT_SECONDS = 10
POOL_TIMEOUT_SECONDS = 10


def _translate_connect_errors(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Dialect, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> Any:
        # asyncpg raises a refused or timed-out connect as a bare OSError, which SQLAlchemy passes
        # on unwrapped; as the DB-API's OperationalError it reads as "database unavailable".
        try:
            return dialect.connect(*cargs, **cparams)
        except OSError as error:
            raise dialect.loaded_dbapi.OperationalError(
                f"cannot connect to the database: {error!r}", error
            ) from error


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, decide when transactions begin (see below).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin_immediate(connection: Any) -> None:
            # SQLite ignores SELECT ... FOR UPDATE; taking the write lock when a transaction
            # begins serialises writers, so stock and exclusivity checks cannot race
            # (readers still proceed under WAL).
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # Pre-ping replaces the connections a server restart killed while they sat in the pool.
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("connect_args", {"timeout": CONNECT_TIMEOUT_SECONDS})
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("pool_timeout", POOL_TIMEOUT_SECONDS)
    engine = create_async_engine(url, **kwargs)
    _translate_connect_errors(engine)
    return engine


def make_sessionmaker(
    engine: AsyncEngine, info: dict[str, Any] | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions of one app; `info` (copied into every session's `Session.info`) carries the
    few settings that rules deep in a use case read, such as the alert thresholds."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False, info=info or {})


# Work that must not run inside the transaction that decided it, because it waits on a third
# party (a refund at the payment provider): a use case queues it with `after_commit`, and it
# runs once that transaction committed, holding no row lock, in sessions of its own.
AfterCommit = Callable[[Runtime], Awaitable[object]]
_AFTER_COMMIT = "market.after_commit"


def after_commit(session: AsyncSession, task: AfterCommit) -> None:
    """Run `task` after this session's transaction commits (dropped if it rolls back). A failing
    task is logged and left to the periodic job that owns its kind of work to finish."""
    session.info.setdefault(_AFTER_COMMIT, []).append(task)


def discard_after_commit(session: AsyncSession) -> None:
    session.info.pop(_AFTER_COMMIT, None)


async def run_after_commit(session: AsyncSession, runtime: Runtime) -> None:
    """Run the tasks queued on `session` (call only once its transaction committed)."""
    for task in session.info.pop(_AFTER_COMMIT, []):
        try:
            await task(runtime)
        except Exception:  # the decision is committed; the job that owns the work retries it
            log.exception("work queued after commit failed; it is retried by its job")


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: commit on success, roll back on any error; then the work
    queued with `after_commit`, still before the response is sent.

    Services never commit; they flush when they need ids.
    """
    runtime = get_runtime(request)
    async with runtime.sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except MarketError as refusal:
            # A refusal that keeps its record (a compliance decision and its audit entry)
            # commits it before the problem is rendered; any other error changes nothing.
            if refusal.keeps_changes:
                await session.commit()
                await run_after_commit(session, runtime)
            else:
                discard_after_commit(session)
                await session.rollback()
            raise
        except BaseException:
            discard_after_commit(session)
            await session.rollback()
            raise
        await run_after_commit(session, runtime)


# scope="function": commit before the response is sent, so a failed commit never answers 2xx.
Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
