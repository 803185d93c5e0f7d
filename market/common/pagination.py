"""Cursor (keyset) pagination shared by every list endpoint."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, and_, or_

from market.errors import InvalidInput

T = TypeVar("T")
Limit = Annotated[int, Query(ge=1, le=200, description="Page size (1-200).")]
Cursor = Annotated[str | None, Query(max_length=200, description="`next_cursor` of the page before.")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(created_at: datetime, row_id: uuid.UUID | int) -> str:
    raw = json.dumps([created_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# The largest id a BIGINT column holds: a bigger one in a cursor cannot be ours.
_MAX_BIGINT = 2**63 - 1


def _malformed() -> InvalidInput:
    return InvalidInput("cursor is not one this API issued", fields=[("query.cursor", "malformed")])


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) a cursor names. Only what `encode_cursor` could have made passes:
    a timezone-aware timestamp and an id text (a tampered one is 422, never a database error)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, row_id = json.loads(base64.urlsafe_b64decode(padded))
        when = datetime.fromisoformat(stamp)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
        raise _malformed() from exc
    # A naive timestamp compares with an aware column on neither database the same way.
    if when.tzinfo is None or not isinstance(row_id, str | int) or isinstance(row_id, bool):
        raise _malformed()
    try:
        return when.astimezone(UTC), str(row_id)
    except OverflowError as exc:  # an offset that takes it past year 9999
        raise _malformed() from exc


def _cursor_id(model: Any, row_id: str) -> int | uuid.UUID:
    """The id in the column's own type: a UUID for UUID keys, a BIGINT-sized integer otherwise."""
    try:
        python_type = model.id.type.python_type
    except NotImplementedError:  # a custom column type: judge by the text
        python_type = int if row_id.isdigit() else uuid.UUID
    try:
        if python_type is int:
            number = int(row_id) if row_id.isascii() and row_id.isdigit() else -1
            if not 0 <= number <= _MAX_BIGINT:
                raise _malformed()
            return number
        return uuid.UUID(row_id)
    except ValueError as exc:
        raise _malformed() from exc


def keyset_page(stmt: Select[Any], model: Any, cursor: str | None, limit: int) -> Select[Any]:
    """Newest first, stable under inserts: order by (created_at, id) descending."""
    if cursor:
        stamp, row_id = decode_cursor(cursor)
        id_value = _cursor_id(model, row_id)
        stmt = stmt.where(or_(model.created_at < stamp, and_(model.created_at == stamp, model.id < id_value)))
    return stmt.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)


def page_of(rows: list[Any], limit: int, to_item: Any) -> Page[Any]:
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
    return Page(items=[to_item(r) for r in rows], next_cursor=next_cursor)
