"""Cursor (keyset) pagination shared by every list endpoint."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
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


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, row_id = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(stamp), str(row_id)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
        raise InvalidInput(
            "cursor is not one this API issued", fields=[("query.cursor", "malformed")]
        ) from exc


def keyset_page(stmt: Select[Any], model: Any, cursor: str | None, limit: int) -> Select[Any]:
    """Newest first, stable under inserts: order by (created_at, id) descending."""
    if cursor:
        stamp, row_id = decode_cursor(cursor)
        id_value: Any = int(row_id) if row_id.isdigit() else uuid.UUID(row_id)
        stmt = stmt.where(or_(model.created_at < stamp, and_(model.created_at == stamp, model.id < id_value)))
    return stmt.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)


def page_of(rows: list[Any], limit: int, to_item: Any) -> Page[Any]:
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
    return Page(items=[to_item(r) for r in rows], next_cursor=next_cursor)
