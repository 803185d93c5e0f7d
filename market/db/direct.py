"""Hot reads sent straight through the driver on PostgreSQL.

Through SQLAlchemy a statement costs about three times its round trip in CPU (issue 21,
measured side by side: 0.28 ms in Core, 0.37 ms through the ORM, 0.12 ms through asyncpg):
the statement's cache key is worked out from its whole tree at every execution, then an
execution context, the cursor adaptation and the result's metadata are built. The few reads
every purchase makes (the trade gate's facts, the product or quote it prices, the caller's
credential) are `Direct` statements instead: compiled once per dialect, their SQL text is sent
by asyncpg on the connection the session already holds, in its transaction, and each column's
result processor is applied as SQLAlchemy would. The engine's `before_cursor_execute` and
`after_cursor_execute` events still fire (the statement counter and the dropped-connection
marker see the read), and an error is translated and handled by the connection as any other
statement's (a dropped connection is invalidated and the request retried).

Other databases (the embedded SQLite default) read through `execute` as before: the rows are
the same values either way (tests/api/test_direct_reads.py compares them).

Only statements without expanding parameters (an `IN` over a list bound at execution) can be
compiled once; every parameter is bound by name. The first execution of a statement in a
process also asks the server for its columns' types (one prepare), from which the result
processors are chosen, as SQLAlchemy chooses them from a cursor's description.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import ColumnElement, Connection, Select, Table, bindparam, inspect, select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_session
from sqlalchemy.orm import Session as SyncSession
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import await_, greenlet_spawn

from market.db.detached import attached, columns_of

T = TypeVar("T")
Processor = Callable[[Any], Any] | None
Row = tuple[Any, ...]


@dataclass(frozen=True)
class _Form:
    """A statement as compiled for one dialect."""

    sql: str
    names: tuple[str, ...]  # its parameters in the order the SQL takes them
    constants: Mapping[str, Any]  # values bound when the statement was built
    binds: tuple[Processor, ...]
    columns: tuple[Any, ...]  # each result column's type


def _form_of(statement: Select[*tuple[Any, ...]], dialect: Dialect) -> _Form:
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise ValueError("a statement with expanding parameters cannot be compiled once")
    names = tuple(compiled.positiontup or ())
    processors = compiled._bind_processors
    return _Form(
        sql=compiled.string,
        names=names,
        constants={
            name: bind.effective_value
            for bind, name in compiled.bind_names.items()
            if not bind.required and bind.callable is None
        },
        binds=tuple(cast(Processor, processors.get(name)) for name in names),
        columns=tuple(column.type for column in compiled._result_columns),
    )


class Rider(Protocol):
    """A check that rides along with the first read of a request that can carry it, in the same
    statement, instead of a round trip of its own (issue 21: the caller's credential). Until it
    has been taken, nothing is written: every write and commit, and an error's answer, settle it
    alone first (`settle_rider`)."""

    # Extra result columns (constant: each statement's variant is compiled once), bound by name.
    columns: tuple[ColumnElement[Any], ...]

    def params(self) -> Mapping[str, Any]: ...

    def take(self, values: Row) -> None:
        """Judge the columns' values as read with the first row; raise to refuse."""

    async def settle(self, session: AsyncSession) -> None:
        """Check alone (the read that carries it found no row, or none came)."""


_RIDER = "market.db.rider"


def add_rider(session: AsyncSession, rider: Rider) -> None:
    session.info[_RIDER] = rider


async def settle_rider(session: AsyncSession) -> None:
    """Check the session's rider alone now, if no read has carried it."""
    rider: Rider | None = session.info.pop(_RIDER, None)
    if rider is not None:
        await rider.settle(session)


def settle_rider_in_flush(session: SyncSession) -> None:
    """`settle_rider` from code that runs in SQLAlchemy's greenlet (a flush, a commit)."""
    if _RIDER in session.info:
        found = async_session(session)
        assert found is not None, "a rider is only added to an AsyncSession"
        await_(settle_rider(found))


class Direct:
    """`statement` (a constant Core statement with bound parameters), read directly on
    PostgreSQL. `carries_riders`: the first request read that may take a pending `Rider` along
    (its columns are added to the statement's, for the first row)."""

    def __init__(self, statement: Select[*tuple[Any, ...]], *, carries_riders: bool = False) -> None:
        self.statement = statement
        self.carries_riders = carries_riders
        self._forms: dict[tuple[Dialect, Any], _Form] = {}
        # The result processors (by column position), known once the server has said the
        # columns' types (some processors depend on them, as for a cursor's description).
        self._results: dict[tuple[Dialect, Any], tuple[tuple[int, Callable[[Any], Any]], ...]] = {}

    def _form(self, dialect: Dialect, extra: tuple[ColumnElement[Any], ...] | None = None) -> _Form:
        """The statement compiled for `dialect`, with a rider's `extra` columns if any."""
        if (form := self._forms.get((dialect, extra))) is None:
            statement = self.statement if extra is None else self.statement.add_columns(*extra)
            form = self._forms[dialect, extra] = _form_of(statement, dialect)
        return form

    async def rows(
        self, on: AsyncSession | AsyncConnection, params: Mapping[str, Any], *, begin: bool = True
    ) -> list[Row]:
        """Every row of the statement with `params`, on the session's connection (in its
        transaction) or on `on` itself. `begin=False` (PostgreSQL): a read before the
        connection's transaction has begun stays outside it, as a lone statement in
        autocommit; the next statement begins the transaction."""
        connection: AsyncConnection | None = None
        rider: Rider | None = None
        if isinstance(on, AsyncSession):
            begin = begin and not on.info.get(_NO_TRANSACTION, False)
            if self.carries_riders:
                rider = on.info.get(_RIDER)
            sync = held_connection(on.sync_session)
            if sync is None:
                connection = await on.connection()
                sync = connection.sync_connection
        else:
            connection, sync = on, on.sync_connection
        assert sync is not None
        dialect = sync.dialect
        if dialect.driver != "asyncpg":
            if connection is None:  # the held one, as SQLAlchemy hands it out
                connection = await cast(AsyncSession, on).connection()
            return [tuple(row) for row in await connection.execute(self.statement, dict(params))]
        key = (dialect, None if rider is None else rider.columns)
        form = self._form(*key)
        if rider is not None:
            params = {**params, **rider.params()}
        values = []
        for name, bind in zip(form.names, form.binds, strict=True):
            value = params[name] if name in params else form.constants[name]
            values.append(value if bind is None else bind(value))
        processors = self._results.get(key)
        records, attributes = await _send(sync, form.sql, values, describe=processors is None, begin=begin)
        if processors is None:
            assert attributes is not None
            found = (
                kind._cached_result_processor(dialect, attribute.type.oid)
                for kind, attribute in zip(form.columns, attributes, strict=True)
            )
            # Only the columns that have one (times, mostly): a row is wide, few need work.
            processors = self._results[key] = tuple(
                (position, process) for position, process in enumerate(found) if process is not None
            )
        rows = [tuple(record) for record in records] if not processors else _processed(records, processors)
        if rider is None or not rows:
            return rows  # no row: the rider waits to be settled alone
        assert isinstance(on, AsyncSession)
        del on.info[_RIDER]
        extra = len(rider.columns)
        rider.take(rows[0][-extra:])
        return [row[:-extra] for row in rows]

    async def first(
        self, on: AsyncSession | AsyncConnection, params: Mapping[str, Any], *, begin: bool = True
    ) -> Row | None:
        found = await self.rows(on, params, begin=begin)
        return found[0] if found else None


def _processed(records: list[Any], processors: tuple[tuple[int, Callable[[Any], Any]], ...]) -> list[Row]:
    rows = []
    for record in records:
        row = list(record)
        for position, process in processors:
            row[position] = process(row[position])
        rows.append(tuple(row))
    return rows


def held_connection(session: SyncSession) -> Connection | None:
    """The connection the session's active transaction already holds (what `connection()` would
    return), found without entering SQLAlchemy's greenlet, as `connection()` does each time
    (about 25 µs: issue 21); None when it holds none yet, or its transaction is not active (then
    `connection()` begins one, or raises as it would)."""
    transaction = session._transaction
    if transaction is None or not transaction.is_active:
        return None
    for connection, *_ in transaction._connections.values():
        return connection
    return None


async def _send(
    connection: Connection | None, sql: str, values: list[Any], *, describe: bool = False, begin: bool = True
) -> tuple[list[Any], list[Any] | None]:
    """The records of `sql` sent by asyncpg on `connection`'s driver connection, in its
    transaction (begun first, as the dialect's cursor would), with the engine's cursor events;
    and, when `describe`, the statement's columns as the server describes them."""
    assert connection is not None
    adapted: Any = connection.connection.dbapi_connection
    events = connection._has_events or connection.engine._has_events
    if events:
        connection.dispatch.before_cursor_execute(connection, None, sql, values, None, False)
    try:
        async with adapted._execute_mutex:
            if begin and adapted._transaction is None:
                await adapted._start_transaction()
            driver = adapted._connection
            attributes = list((await driver.prepare(sql)).get_attributes()) if describe else None
            records: list[Any] = await driver.fetch(sql, *values)
    except Exception as error:
        await greenlet_spawn(_raise_as_the_connection_would, connection, adapted, error, sql, values)
        raise  # not reached: the connection raised its own error
    if events:
        connection.dispatch.after_cursor_execute(connection, None, sql, values, None, False)
    return records, attributes


def send_in_flush(
    connection: Connection, sql: str, values: Sequence[Any], *, begin: bool = True
) -> list[Any]:
    """`sql` with its positional `values` sent straight through asyncpg on `connection`, as
    `Direct` reads are, by code that runs in SQLAlchemy's greenlet (a flush: the one statement
    of `market.db.together`); its records."""
    records, _ = await_(_send(connection, sql, list(values), begin=begin))
    return records


_NO_TRANSACTION = "market.db.no_transaction"


def without_transaction(session: AsyncSession) -> None:
    """This request's reads need no snapshot of their own and lock nothing, and what it writes
    goes in one statement (`market.db.together`) that nothing rolls back once it is sent: on
    PostgreSQL its direct reads and that statement then run as lone statements, each its own
    transaction, with no BEGIN and COMMIT round trips (issue 21: an unkeyed quote). A
    statement sent through SQLAlchemy still begins a transaction, which the rest then joins;
    so does any write after the first."""
    session.info[_NO_TRANSACTION] = True


def first_write_alone(session: SyncSession) -> bool:
    """Whether this write may be sent in no transaction (`without_transaction`); only the first
    may, so the request's writes are never split over several lone statements."""
    return bool(session.info.pop(_NO_TRANSACTION, False))


def _raise_as_the_connection_would(
    connection: Connection, adapted: Any, error: Exception, sql: str, values: list[Any]
) -> None:
    """The driver's error as the DB-API's, then handled by the connection as a failed
    statement's: `handle_error` events, a disconnect invalidating the connection, and the
    SQLAlchemy exception raised (run in a greenlet: invalidation may wait on the driver)."""
    try:
        adapted._handle_exception(error)
    except Exception as dbapi_error:
        connection._handle_dbapi_exception(dbapi_error, sql, tuple(values), None, None)


_BY_ID: dict[type[Any], Direct] = {}


async def by_id(session: AsyncSession, cls: type[T], ident: Any) -> T | None:
    """`session.get(cls, ident)` for a hot path: the object the session holds, else the row read
    directly and held by the session as if loaded (`market.db.detached.attached`). A class
    with a single-column primary key named `id`; no lock (a locking read goes through
    `session.get`, which refreshes what it locks)."""
    held = session.identity_map.get(identity_key(cls, ident))
    if held is not None and not inspect(held).expired_attributes:
        return held
    if held is not None:  # expired (a rollback): SQLAlchemy refreshes it
        return await session.get(cls, ident)
    if (read := _BY_ID.get(cls)) is None:
        table = cast(Table, inspect(cls).local_table)
        read = _BY_ID[cls] = Direct(select(*columns_of(cls)[1]).where(table.c.id == bindparam("id")))
    found = await read.first(session, {"id": ident})
    return None if found is None else attached(session, cls, found)
