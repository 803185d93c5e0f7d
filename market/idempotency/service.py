"""`Idempotency-Key`: the same key and body replay the first response; another body is a 422."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import Header
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from market.errors import MarketError
from market.idempotency.models import IdempotencyRecord

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=200,
        description=(
            "Client-chosen unique key; a retry with the same key and body replays "
            "the first response."
        ),
    ),
]


class IdempotencyKeyReused(MarketError):
    code, title, status = "idempotency-key-reused", "Idempotency key reused", 422


def request_fingerprint(body: BaseModel | dict[str, Any] | None) -> str:
    data = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    raw = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


async def replay(
    session: AsyncSession, owner: str, key: str | None, operation: str, fingerprint: str
) -> JSONResponse | None:
    """The stored first response for this key, or None when the key is new."""
    if key is None:
        return None
    stmt = select(IdempotencyRecord).where(
        IdempotencyRecord.owner == owner, IdempotencyRecord.key == key
    )
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        return None
    if found.operation != operation or found.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was already used with a different request",
            fields=[("header.Idempotency-Key", "already used with another body or operation")],
        )
    return JSONResponse(
        json.loads(found.response_body),
        status_code=found.status_code,
        headers={"Idempotent-Replayed": "true"},
    )


async def remember(
    session: AsyncSession,
    owner: str,
    key: str | None,
    operation: str,
    fingerprint: str,
    status_code: int,
    response: Any,
) -> None:
    """Store the first response in the same transaction as the change it describes.

    A concurrent request with the same key then fails on the unique (owner, key) constraint
    and its whole transaction rolls back: never two creations for one key.
    """
    if key is None:
        return
    session.add(
        IdempotencyRecord(
            owner=owner,
            key=key,
            operation=operation,
            request_hash=fingerprint,
            status_code=status_code,
            response_body=json.dumps(jsonable_encoder(response)),
        )
    )
    await session.flush()
