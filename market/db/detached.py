"""Mapped objects built straight from the rows of a Core query, detached from any session.

Loading mapped entities through the ORM sets up a row processor per entity at every execution,
which for a hot query that joins several tables costs more than the query's round trip (issue
21: the trade gate's facts, six entities in one query). A query that selects the tables'
columns instead (`columns_of`) returns plain rows, and `detached` makes each entity's slice of a
row an instance of its class, as `make_transient_to_detached` describes for rows read
elsewhere: the instance has its identity but no session, so it is read like any loaded object,
and reaching for anything not read (a relationship) raises instead of loading.

They are for reading. Adding one to a session makes it persistent again (it is a real row), but
nothing here tracks it, so do not change one expecting the change to be written. `attached`
does that adding for a row read in the session's own transaction: the object is then the
session's as a loaded one is, and its changes are written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Column, event, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session as SyncSession
from sqlalchemy.orm import SessionTransaction
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.state import InstanceState

T = TypeVar("T")


@dataclass(frozen=True)
class _Shape:
    attributes: tuple[str, ...]
    columns: tuple[Column[Any], ...]
    manager: Any  # the class's instrumentation (makes bare instances)
    identity_class: type[Any]
    key_positions: tuple[int, ...]  # where the primary key's values are among `attributes`
    unread: frozenset[str]  # mapped columns not among `attributes`


_SHAPES: dict[tuple[type[Any], tuple[str, ...] | None], _Shape] = {}


def _shape(cls: type[Any], names: tuple[str, ...] | None = None) -> _Shape:
    """The class's mapped attributes and columns, all of them, or those `names` (with its
    primary key): a query that reads only what its use needs decodes fewer values."""
    if (known := _SHAPES.get((cls, names))) is None:
        mapper = inspect(cls)
        attributes, columns = [], []
        for prop in mapper.column_attrs:
            if names is not None and prop.key not in names:
                continue
            (column,) = prop.columns
            attributes.append(prop.key)
            columns.append(cast(Column[Any], column))
        keys = [mapper.get_property_by_column(column).key for column in mapper.primary_key]
        if names is not None and (unknown := set(names) - set(attributes) or set(keys) - set(names)):
            raise ValueError(
                f"{cls.__name__}: {sorted(unknown)} are not mapped columns, or the key is missing"
            )
        known = _SHAPES[(cls, names)] = _Shape(
            tuple(attributes),
            tuple(columns),
            mapper.class_manager,
            mapper._identity_class,
            tuple(attributes.index(key) for key in keys),
            frozenset(p.key for p in mapper.column_attrs) - set(attributes),
        )
    return known


def columns_of(
    cls: type[Any], names: tuple[str, ...] | None = None
) -> tuple[tuple[str, ...], tuple[Column[Any], ...]]:
    """The class's mapped attributes (all, or those `names`) and their table columns, in one
    order: select the columns, and give `detached` the same slice of each row."""
    shape = _shape(cls, names)
    return shape.attributes, shape.columns


def _identity(shape: _Shape, values: Sequence[Any]) -> tuple[Any, ...]:
    return (shape.identity_class, tuple(values[i] for i in shape.key_positions), None)


def detached(cls: type[T], values: Sequence[Any], names: tuple[str, ...] | None = None) -> T:
    """An instance of `cls` holding `values` (in `columns_of(cls, names)`'s order), detached.

    What `make_transient_to_detached` does to a new instance, done directly (issue 21: a fifth
    of its cost): the columns read are set, and the instance gets its identity key.
    Relationships are not loaded, as with a loaded object; reaching for one, or for a column
    not read (`names`), on a detached instance raises."""
    shape = _shape(cls, names)
    obj: T = shape.manager.new_instance()
    obj.__dict__.update(zip(shape.attributes, values, strict=True))
    state = instance_state(obj)
    state.key = _identity(shape, values)
    if shape.unread:
        # Expired on an instance with no session: reading one raises, it does not give None.
        state.expired_attributes = set(shape.unread)
    return obj


_RELATIONSHIPS: dict[Any, tuple[str, ...]] = {}


def holds_related(state: InstanceState[Any]) -> bool:
    """The object holds a related object (or a collection of some): adding it cascades to them,
    and writing it needs the unit of work to sync their keys."""
    mapper = state.mapper
    if (keys := _RELATIONSHIPS.get(mapper)) is None:
        keys = _RELATIONSHIPS[mapper] = tuple(r.key for r in mapper.relationships)
    held = state.dict
    return any(held.get(key) for key in keys)


def added(session: AsyncSession, obj: T) -> T:
    """`session.add(obj)`; when the object holds no related object, without the walk of its
    relationships for others to add (issue 21: most of an add's cost, a dozen adds a purchase).
    An object that holds one is added as `add` does, cascading."""
    state = instance_state(obj)
    sync = session.sync_session
    if sync._warn_on_events or holds_related(state):
        session.add(obj)  # inside a flush SQLAlchemy warns; related objects are cascaded to
        return obj
    # What `Session.add` does before its cascade (`Session._save_or_update_state`).
    state._orphaned_outside_of_session = False
    sync._save_or_update_impl(state)
    return obj


def attached(session: AsyncSession, cls: type[T], values: Sequence[Any]) -> T:
    """An instance of `cls` holding `values`, persistent in `session` as if loaded there: the
    object the session already holds for that row if any (a load returns it, unchanged), else a
    new one added to it (no statement: it is known to exist)."""
    held = session.identity_map.get(_identity(_shape(cls), values))
    if held is not None:
        return cast(T, held)
    return added(session, detached(cls, values))


def attached_row(session: AsyncSession, row: Sequence[Any], *classes: type[Any]) -> list[Any]:
    """Each class's slice of a row that selected their columns in turn (`columns_of`), as
    `attached` objects, then the row's remaining values, one by one."""
    found: list[Any] = []
    start = 0
    for cls in classes:
        end = start + len(_shape(cls).attributes)
        found.append(attached(session, cls, row[start:end]))
        start = end
    return [*found, *row[start:]]


_KEPT = "market.detached.kept"


def kept(session: AsyncSession, obj: T) -> T:
    """Hold `obj` for the rest of the transaction: the session's identity map holds an object
    with no pending change only weakly, so a later read of the same row in this transaction
    would otherwise go back to the database once the caller lets go of it."""
    session.sync_session.info.setdefault(_KEPT, []).append(obj)
    return obj


@event.listens_for(SyncSession, "after_transaction_end")
def _let_go(session: SyncSession, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_KEPT, None)
