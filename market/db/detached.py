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
from typing import Any, TypeVar, cast

from sqlalchemy import Column, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

T = TypeVar("T")


_COLUMNS: dict[type[Any], tuple[tuple[str, ...], tuple[Column[Any], ...]]] = {}


def columns_of(cls: type[Any]) -> tuple[tuple[str, ...], tuple[Column[Any], ...]]:
    """The class's mapped attributes and their table columns, in one order: select the
    columns, and give `detached` the same slice of each row."""
    if (known := _COLUMNS.get(cls)) is None:
        attributes, columns = [], []
        for prop in inspect(cls).column_attrs:
            (column,) = prop.columns
            attributes.append(prop.key)
            columns.append(cast(Column[Any], column))
        known = _COLUMNS[cls] = (tuple(attributes), tuple(columns))
    return known


def detached(cls: type[T], values: Sequence[Any]) -> T:
    """An instance of `cls` holding `values` (in `columns_of(cls)`'s order), detached."""
    attributes, _ = columns_of(cls)
    obj: T = inspect(cls).class_manager.new_instance()
    obj.__dict__.update(zip(attributes, values, strict=True))
    make_transient_to_detached(obj)
    return obj


def attached(session: AsyncSession, cls: type[T], values: Sequence[Any]) -> T:
    """An instance of `cls` holding `values`, persistent in `session` as if loaded there: the
    object the session already holds for that row if any (a load returns it, unchanged), else a
    new one added to it (no statement: it is known to exist)."""
    obj = detached(cls, values)
    held = session.identity_map.get(inspect(obj).key)
    if held is not None:
        return cast(T, held)
    session.add(obj)
    return obj
