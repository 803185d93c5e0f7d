"""Engine, sessions and the one-transaction-per-request dependency."""

from __future__ import annotations

import logging
import weakref
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from functools import partial
from typing import Annotated, Any

import pydantic_core
from anyio import CancelScope
from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from market.db.direct import settle_rider
from market.errors import RETRY_SAFE, MarketError
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


def _json_text(value: Any) -> str:
    return pydantic_core.to_json(value).decode()


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # JSON columns are written and read by pydantic's JSON (Rust), not the json module: a
    # purchase writes and reads some thirty JSON values, at a third of the cost (issue 21).
    kwargs.setdefault("json_serializer", _json_text)
    kwargs.setdefault("json_deserializer", pydantic_core.from_json)
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
    # No pre-ping (a round trip before every request's first statement): a connection a server
    # restart killed while it sat in the pool fails on its first use instead, and the request is
    # run again once on a fresh one before anything is answered (RetryDroppedConnection).
    kwargs.setdefault("pool_pre_ping", False)
    kwargs.setdefault("connect_args", {"timeout": CONNECT_TIMEOUT_SECONDS})
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("pool_timeout", POOL_TIMEOUT_SECONDS)
    engine = create_async_engine(url, **kwargs)
    _translate_connect_errors(engine)
    _mark_dead_on_checkout(engine)
    return engine


_USED = "market.statements_ok"


def _mark_dead_on_checkout(engine: AsyncEngine) -> None:
    """A disconnect on a connection's first statement since it left the pool means it was dead
    in the pool: nothing of the request reached the database, so running it again is safe.
    Such errors are marked (`RETRY_SAFE`) for RetryDroppedConnection."""

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def _checked_out(_dbapi: Any, record: Any, _proxy: Any) -> None:
        record.info[_USED] = 0

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _executed(conn: Any, *_: Any) -> None:
        conn.info[_USED] = conn.info.get(_USED, 0) + 1

    @event.listens_for(engine.sync_engine, "handle_error")
    def _failed(context: Any) -> None:
        conn, error = context.connection, context.sqlalchemy_exception
        if context.is_disconnect and conn is not None and error is not None:
            if conn.info.get(_USED, 0) == 0:
                setattr(error, RETRY_SAFE, True)


# A body up to this size is kept to be replayed; a larger one (a file upload) is not held in
# memory for a retry that, on the rare dead connection, it forgoes: it gets the 503 instead.
REPLAYABLE_BODY_BYTES = 1 << 20


class RetryDroppedConnection:
    """ASGI middleware: a request whose pooled connection turned out dead on its first statement
    (the database restarted since it was pooled) is run once more, on a fresh connection, before
    any response is sent; its body (up to REPLAYABLE_BODY_BYTES) is replayed as received. A
    second failure, or a larger body, is answered as any (503, Retry-After)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        received: list[Any] | None = []
        kept_bytes = 0

        async def recording() -> Any:
            nonlocal received, kept_bytes
            message = await receive()
            if received is not None:
                kept_bytes += len(message.get("body", b""))
                if kept_bytes <= REPLAYABLE_BODY_BYTES:
                    received.append(message)
                else:
                    received = None
            return message

        async def holding(message: Any) -> None:
            if not state.get(RETRY_SAFE) or received is None:
                await send(message)  # else: the 503 of the dead connection is never sent

        await self.app(scope, recording, holding)
        if not state.pop(RETRY_SAFE, False) or received is None:
            return
        log.info("a pooled connection was dead; the request runs again", extra={"path": scope.get("path")})
        replay = iter(received)

        async def replaying() -> Any:
            return next(replay, None) or await receive()

        await self.app(scope, replaying, send)


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


# Reads only (GETs never write): on PostgreSQL their statements run in no transaction, so no
# BEGIN and COMMIT round trips go with them (issue 21). Under READ COMMITTED each statement of a
# transaction takes its own snapshot anyway, so the answers are the same.
READ_METHODS = frozenset({"GET", "HEAD"})
_AUTOCOMMIT: weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine] = weakref.WeakKeyDictionary()


def autocommit_engine(engine: AsyncEngine) -> AsyncEngine:
    """`engine` with its statements in no transaction (PostgreSQL: reads only)."""
    if engine not in _AUTOCOMMIT:
        _AUTOCOMMIT[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return _AUTOCOMMIT[engine]


def _reading_bind(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    engine = sessionmaker.kw.get("bind")
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "postgresql":
        return {}
    return {"bind": autocommit_engine(engine)}


# FastAPI's stack of what ends with the endpoint, before its response is sent: a dependency's
# `scope="function"` exit is pushed there. FastAPI makes one for every request.
_ENDPOINT_EXITS = "fastapi_function_astack"


async def get_session(request: Request) -> AsyncSession:
    """One transaction per request: committed when the endpoint returns (its response built, not
    yet sent, so a failed commit never answers 2xx), rolled back on any error; then the work
    queued with `after_commit`, still before the response is sent.

    Services never commit; they flush when they need ids.

    Not a `yield` dependency: FastAPI runs one inside two context managers and a cancel scope of
    its own, a tenth of a purchase's dependency resolution (issue 21). The transaction's end is
    pushed on the endpoint's exit stack instead, as FastAPI does with such a dependency's exit.
    """
    runtime = get_runtime(request)
    exits = request.scope.get(_ENDPOINT_EXITS)
    if not isinstance(exits, AsyncExitStack):
        raise RuntimeError(
            "the request session is a FastAPI route's dependency, and FastAPI gave no exit stack"
        )
    reading = _reading_bind(runtime.sessionmaker) if request.method in READ_METHODS else {}
    session = runtime.sessionmaker(**reading)
    exits.push_async_exit(partial(_end_transaction, session, runtime))
    return session


async def _end_transaction(
    session: AsyncSession, runtime: Runtime, _type: object, error: BaseException | None, _trace: object
) -> bool:
    """The request's transaction ended as its endpoint did (`error`: what it raised, if it did);
    never suppresses the error. Shielded, as FastAPI shields a dependency's exit: a cancelled
    request still rolls back and gives its connection back."""
    with CancelScope(shield=True):
        try:
            if error is None:
                try:
                    await session.commit()
                except BaseException as failed:
                    await _failed(session, runtime, failed)
                    raise
                await run_after_commit(session, runtime)
            else:
                await _failed(session, runtime, error)
        finally:
            await session.close()
    return False


async def _failed(session: AsyncSession, runtime: Runtime, error: BaseException) -> None:
    if isinstance(error, MarketError) and error.keeps_changes:
        # A refusal that keeps its record (a compliance decision and its audit entry) commits it
        # before the problem is rendered; any other error changes nothing.
        await session.commit()
        await run_after_commit(session, runtime)
    elif isinstance(error, Exception):
        await _undo(session)
    else:  # cancelled: nothing more is sent to the database
        discard_after_commit(session)
        await session.rollback()


async def _undo(session: AsyncSession) -> None:
    """Roll back a failed request's work; a caller whose credential no read checked yet is then
    checked alone, so an unauthenticated caller is told that (401), not why its request failed."""
    discard_after_commit(session)
    await session.rollback()
    try:
        await settle_rider(session)
    except MarketError:
        raise  # the caller's refusal (401) is the answer
    except Exception:  # the database failed again: the first error is the one answered
        log.warning("a caller's credential could not be checked after a failed request", exc_info=True)


Session = Annotated[AsyncSession, Depends(get_session)]
