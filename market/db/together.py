"""A transaction's writes in one statement on PostgreSQL (issue 21: a purchase in few round
trips). What a flush would send as one INSERT or UPDATE per table, together with the audit
entries and jobs recorded for it (`market.db.pending`), is sent as one statement of
data-modifying CTEs::

    WITH w1 AS (INSERT INTO orders ...), w2 AS (UPDATE quotes ...), ... SELECT ...

Why this is safe: every sub-statement of one statement sees the same snapshot and foreign keys
are checked at the end of the statement, so the order of the parts does not matter; a row is
never both inserted and updated in one flush (the new objects are inserted, the persistent
ones updated); and the statement is atomic like any other.

The unit of work is used when a flush holds anything this writer does not handle plainly
(deletes, objects with database-generated keys, inheritance, version counters, changed
relationships): then the flush is the ORM's, unchanged. SQLite, in process, has no round trip
to save and keeps the ORM's flush.

The rows are rendered by hand (`$n` parameters, each value through its column type's bind
processor, as SQLAlchemy would) and sent with `exec_driver_sql`: the statement's text depends
only on how many rows of which tables it writes, so the driver's prepared-statement cache serves
the hot paths, and no SQLAlchemy compilation runs per request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Column, Table, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapper
from sqlalchemy.orm import Session as SyncSession
from sqlalchemy.orm.base import PassiveFlag
from sqlalchemy.orm.state import InstanceState
from sqlalchemy.sql.elements import ColumnElement

from market.db.detached import holds_related
from market.db.direct import first_write_alone, held_connection, send_in_flush, settle_rider_in_flush

# PostgreSQL's wire protocol numbers parameters with 16 bits; past this the unit of work's own
# statements (chunked) are used.
MAX_PARAMETERS = 30_000


class Params:
    """The statement's positional parameters, each value bound through its column's type."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.values: list[Any] = []

    def bind(self, value: Any, column: Column[Any] | None = None) -> str:
        if column is not None and value is not None:
            processor = _processor(column, self.dialect)
            if processor is not None:
                value = processor(value)
        self.values.append(value)
        return f"${len(self.values)}"


_PROCESSORS: dict[tuple[int, str], Callable[[Any], Any] | None] = {}


def _processor(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    key = (id(column), dialect.name)
    if key not in _PROCESSORS:
        _PROCESSORS[key] = column.type._cached_bind_processor(dialect)
    return _PROCESSORS[key]


@dataclass
class Part:
    """One sub-statement. `counted` parts (a SELECT, or DML with RETURNING) report how many
    rows they produced, and the `returning` columns of their (one) row; the others are only
    executed."""

    sql: str
    counted: bool = False
    returning: tuple[str, ...] = ()


@dataclass(frozen=True)
class Produced:
    """What a counted part produced: its row count, and its returned values (None: no row)."""

    count: int
    values: tuple[Any, ...] | None


# Run on the part's result once the statement has run; raises to refuse (the transaction then
# rolls back with everything the statement wrote).
Verdict = Callable[[SyncSession, Produced], None]


@dataclass
class Batch:
    dialect: Dialect
    params: Params = field(init=False)
    parts: list[Part] = field(default_factory=list)
    verdicts: list[tuple[int, Verdict]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.params = Params(self.dialect)

    def check(self, part: Part, verdict: Verdict) -> None:
        """Add a counted part whose result `verdict` judges after the statement ran."""
        self.verdicts.append((len(self.parts), verdict))
        self.parts.append(part)


def _python_value(default: Any) -> Callable[[], Any] | None:
    """What makes the value of a column's `default` or `onupdate` in Python (a scalar, or a
    function SQLAlchemy wraps to take its context), or None (none, or SQL the database runs)."""
    if getattr(default, "is_callable", False):
        return lambda: default.arg(None)
    if getattr(default, "is_scalar", False):
        return lambda: default.arg
    return None


def insert_rows(batch: Batch, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """A multi-row INSERT of `rows` (by column key) as a part of the batch."""
    batch.parts.append(Part(insert_sql(batch, table, rows)))


def insert_sql(batch: Batch, table: Table, rows: Sequence[Mapping[str, Any]]) -> str:
    """A multi-row INSERT of `rows` (by column key), Python-side column defaults filled in as
    a Core INSERT would; columns the database numbers itself are left to it."""
    quoted_table, described = _insertable(table, batch.dialect)
    columns = tuple(c for c in described if c.default is not _GENERATED or any(c.key in row for row in rows))
    params = batch.params.values
    first = len(params) + 1
    for row in rows:
        for c in columns:
            if c.key in row:
                value = row[c.key]
            else:
                value = c.default() if callable(c.default) else None
            params.append(c.processor(value) if c.processor is not None and value is not None else value)
    return _insert_text(quoted_table, columns, len(rows), first)


@lru_cache(maxsize=1024)
def _insert_text(quoted_table: str, columns: tuple[_Insertable, ...], rows: int, first: int) -> str:
    """The INSERT's text: it depends only on the table, the columns, how many rows and where its
    parameters start, which the hot paths repeat request after request (issue 21)."""
    width = len(columns)
    groups = (
        "(" + ", ".join(f"${n}" for n in range(start, start + width)) + ")"
        for start in range(first, first + rows * width, width)
    )
    names = ", ".join(c.quoted for c in columns)
    # Names come from the models' tables and every value is a parameter.
    return f"INSERT INTO {quoted_table} ({names}) VALUES {', '.join(groups)}"  # noqa: S608


# Compared and hashed as themselves (made once per table and dialect): `_insert_text`'s cache
# key is a tuple of them, hashed on every INSERT.
@dataclass(frozen=True, eq=False)
class _Insertable:
    """A column as `insert_sql` writes it, worked out once per table and dialect."""

    key: str
    default: Default
    processor: Callable[[Any], Any] | None
    quoted: str


_INSERTABLE: dict[tuple[Table, str], tuple[str, list[_Insertable]]] = {}


def _insertable(table: Table, dialect: Dialect) -> tuple[str, list[_Insertable]]:
    """The table's quoted name and its columns, as `insert_sql` writes them."""
    if (known := _INSERTABLE.get((table, dialect.name))) is None:
        quote = dialect.identifier_preparer.quote
        columns = [
            _Insertable(c.key, _default_of(c), _processor(c, dialect), quote(c.name)) for c in table.columns
        ]
        known = _INSERTABLE[(table, dialect.name)] = (quote(table.name), columns)
    return known


def _generated(column: ColumnElement[Any]) -> bool:
    """The database makes this column's value (an autoincrementing key, a server default)."""
    table = column.table
    return (
        column.server_default is not None
        or column.identity is not None
        or (isinstance(table, Table) and table.autoincrement_column is column)
    )


# ---- the unit of work's objects -------------------------------------------------------------


def _plain_mapper(mapper: Mapper[Any]) -> Table | None:
    table = mapper.local_table
    if (
        mapper.inherits is not None
        or mapper.polymorphic_on is not None
        or mapper.version_id_col is not None
        or not isinstance(table, Table)
        or mapper.persist_selectable is not table
    ):
        return None
    return table


@dataclass
class _Insert:
    state: InstanceState[Any]
    table: Table
    values: dict[str, Any]


@dataclass
class _Update:
    state: InstanceState[Any]
    table: Table
    changes: dict[str, Any]
    key: dict[str, Any]
    made: dict[str, Any]  # attribute -> the value its column's onupdate made


# How a mapped attribute's value is found when the object does not hold one: a Python default
# (called), NULL, or made by the database (the object would need it read back: not written here).
_GENERATED = object()
Default = Callable[[], Any] | None | object


@dataclass(frozen=True)
class _Shape:
    """What writing a mapper's new objects takes, worked out once per mapper."""

    table: Table
    columns: tuple[tuple[str, str, Default], ...]  # (attribute, column key, default)
    primary_key: tuple[str, ...]


_SHAPES: dict[Mapper[Any], _Shape | None] = {}


def _default_of(column: ColumnElement[Any]) -> Default:
    if (make := _python_value(column.default)) is not None:
        return make
    if column.default is not None or _generated(column):
        return _GENERATED
    return None


def _shape(mapper: Mapper[Any]) -> _Shape | None:
    if mapper in _SHAPES:
        return _SHAPES[mapper]
    table = _plain_mapper(mapper)
    shape = None
    props = list(mapper.column_attrs)
    if table is not None and all(len(p.columns) == 1 and p.columns[0].table is table for p in props):
        shape = _Shape(
            table=table,
            columns=tuple((p.key, p.columns[0].key, _default_of(p.columns[0])) for p in props),
            primary_key=tuple(c.key for c in table.primary_key.columns),
        )
    _SHAPES[mapper] = shape
    return shape


def _planned_insert(state: InstanceState[Any]) -> _Insert | None:
    shape = _shape(state.mapper)
    if shape is None:
        return None
    if holds_related(state):
        return None  # the unit of work syncs foreign keys from related objects
    held = state.dict
    values: dict[str, Any] = {}
    for attribute, column_key, default in shape.columns:
        if attribute in held:
            values[column_key] = held[attribute]
        elif default is None:
            values[column_key] = None
        elif default is _GENERATED:
            return None  # the database would make it; the object would need it read back
        else:
            values[column_key] = default()  # type: ignore[operator]
    if any(values.get(key) is None for key in shape.primary_key):
        return None
    return _Insert(state, shape.table, values)


@dataclass(frozen=True)
class _Changing:
    """What writing a mapper's changed objects takes, worked out once per mapper."""

    table: Table
    relationships: frozenset[str]
    columns: dict[str, Column[Any] | None]  # attribute -> its one column of the table, or None
    onupdate: tuple[tuple[str, str, Callable[[], Any] | None], ...]  # (attribute, column key, make)
    primary_key: tuple[tuple[str, str], ...]  # (column key, attribute)


_CHANGING: dict[Mapper[Any], _Changing | None] = {}


def _changing(mapper: Mapper[Any]) -> _Changing | None:
    if mapper in _CHANGING:
        return _CHANGING[mapper]
    table = _plain_mapper(mapper)
    shape = None
    if table is not None:
        columns = {
            p.key: p.columns[0] if len(p.columns) == 1 and p.columns[0].table is table else None
            for p in mapper.column_attrs
        }
        shape = _Changing(
            table=table,
            relationships=frozenset(r.key for r in mapper.relationships),
            columns=cast(dict[str, Column[Any] | None], columns),
            onupdate=tuple(
                (p.key, p.columns[0].key, _python_value(p.columns[0].onupdate))
                for p in mapper.column_attrs
                if p.columns[0].onupdate is not None
            ),
            primary_key=tuple(
                (c.key, mapper.get_property_by_column(c).key) for c in table.primary_key.columns
            ),
        )
    _CHANGING[mapper] = shape
    return shape


def _planned_update(state: InstanceState[Any]) -> _Update | bool | None:
    """The UPDATE for a changed object; True when it has nothing to write; None when the unit
    of work must write it. The attributes changed are those the object keeps the committed
    values of, as the unit of work finds them."""
    shape = _changing(state.mapper)
    if shape is None:
        return None
    changes: dict[str, Any] = {}
    made: dict[str, Any] = {}
    for attribute in state.committed_state:
        history = state.get_history(attribute, PassiveFlag.PASSIVE_NO_INITIALIZE)
        if not history.has_changes():
            continue
        if attribute in shape.relationships:
            return None
        column = shape.columns.get(attribute)
        if column is None or not history.added:
            return None
        changes[column.key] = history.added[0]
    if not changes:
        return True
    for attribute, column_key, make in shape.onupdate:
        if column_key not in changes:
            if make is None:
                return None
            changes[column_key] = made[attribute] = make()
    key: dict[str, Any] = {}
    for column_key, attribute in shape.primary_key:
        if column_key in changes or (attribute not in state.committed_state and attribute not in state.dict):
            return None
        key[column_key] = state.dict[attribute]
    return _Update(state, shape.table, changes, key, made)


def _update_sql(batch: Batch, update: _Update) -> None:
    columns = {c.key: c for c in update.table.columns}
    quote = batch.dialect.identifier_preparer.quote
    sets = ", ".join(
        f"{quote(columns[k].name)} = {batch.params.bind(v, columns[k])}" for k, v in update.changes.items()
    )
    where = " AND ".join(
        f"{quote(columns[k].name)} = {batch.params.bind(v, columns[k])}" for k, v in update.key.items()
    )
    batch.parts.append(Part(f"UPDATE {quote(update.table.name)} SET {sets} WHERE {where}"))  # noqa: S608


@dataclass
class Plan:
    inserts: list[_Insert]
    updates: list[_Update]
    unchanged: list[InstanceState[Any]]


def plan(session: SyncSession) -> Plan | None:
    """What the next flush would write, if this writer can write all of it; else None."""
    if session.deleted:
        return None
    inserts, updates, unchanged = [], [], []
    for obj in session.new:
        planned = _planned_insert(inspect(obj))
        if planned is None:
            return None
        inserts.append(planned)
    for obj in session.dirty:
        state = inspect(obj)
        changed = _planned_update(state)
        if changed is None:
            return None
        if changed is True:
            unchanged.append(state)
        elif isinstance(changed, _Update):
            updates.append(changed)
    return Plan(inserts, updates, unchanged)


def render_plan(batch: Batch, work: Plan) -> None:
    by_table: dict[Table, list[_Insert]] = {}
    for insert in sorted(work.inserts, key=lambda i: (i.table.name, i.state.insert_order)):
        by_table.setdefault(insert.table, []).append(insert)
    for table, rows in by_table.items():
        insert_rows(batch, table, [row.values for row in rows])
    for update in sorted(work.updates, key=lambda u: (u.table.name, str(u.key))):
        _update_sql(batch, update)


def settle(session: SyncSession, work: Plan) -> None:
    """The objects are written: make them persistent, as the unit of work would have. Its own
    last step does it (`Session._register_persistent`: identity keys, the identity map, the
    committed values, and the transaction's record of them for a rollback), without the
    cascades that taking each object out of the session and adding it back would walk."""
    for insert in work.inserts:
        shape = _shape(insert.state.mapper)
        assert shape is not None
        held = insert.state.dict
        for attribute, column_key, _ in shape.columns:
            if attribute not in held:  # a default written: the object holds what was written
                held[attribute] = insert.values[column_key]
    for update in work.updates:
        update.state.dict.update(update.made)
    written = {i.state for i in work.inserts} | {u.state for u in work.updates} | set(work.unchanged)
    session._register_persistent(written)


def statement(parts: Iterable[Part]) -> str:
    """The parts as one statement: for each counted part, its count and returned columns."""
    parts = list(parts)
    if len(parts) == 1 and not parts[0].counted:
        return parts[0].sql
    ctes = ", ".join(f"w{n} AS ({part.sql})" for n, part in enumerate(parts))
    selected: list[str] = []
    for n, part in enumerate(parts):
        if part.counted:
            # The parts' own SQL, made by this package from the models' names; values are parameters.
            selected.append(f"(SELECT count(*) FROM w{n})")  # noqa: S608
            selected.extend(f"(SELECT {c} FROM w{n})" for c in part.returning)  # noqa: S608
    return f"WITH {ctes} SELECT {', '.join(selected) or '1'}"


def execute(session: SyncSession, batch: Batch) -> list[Produced | None]:
    """Send the batch as one statement, then its verdicts; what each part produced (None for
    a part that is not counted), in the batch's order."""
    settle_rider_in_flush(session)  # nothing is written for a caller not yet checked
    held = held_connection(session)
    connection = held if held is not None else session.connection()
    sql = statement(batch.parts)
    counts = any(part.counted for part in batch.parts)
    if connection.dialect.driver == "asyncpg":
        # Straight through the driver (market.db.direct): SQLAlchemy's execution context and
        # result metadata for a statement of this size cost more than its round trip (issue 21).
        alone = first_write_alone(session)
        records = send_in_flush(connection, sql, batch.params.values, begin=not alone)
        one: Sequence[Any] = records[0] if counts else ()
    else:
        result = connection.exec_driver_sql(sql, tuple(batch.params.values))
        one = result.one() if counts else ()
    # The one row holds, for each counted part, its count and then its returned values.
    row = iter(one)
    produced: list[Produced | None] = []
    for part in batch.parts:
        if not part.counted:
            produced.append(None)
            continue
        count, values = int(next(row)), tuple(next(row) for _ in part.returning)
        produced.append(Produced(count, values if count else None))
    for position, verdict in batch.verdicts:
        found = produced[position]
        assert found is not None
        verdict(session, found)
    return produced
