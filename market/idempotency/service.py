"""`Idempotency-Key`: the same key and body replay the first response; another body is a 422."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, cast

from fastapi import Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, StringConstraints, TypeAdapter, ValidationError
from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from market.common.clock import now
from market.db import together
from market.db.direct import settle_rider
from market.db.pending import flush_with
from market.errors import MarketError, Unauthenticated
from market.idempotency.models import IdempotencyRecord

KEY_TEXT = "Client-chosen unique key; a retry with the same key and body replays the first response."
# A key's bounds, wherever it is read or documented.
KEY_MIN_LENGTH, KEY_MAX_LENGTH = 8, 200
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", min_length=KEY_MIN_LENGTH, max_length=KEY_MAX_LENGTH, description=KEY_TEXT
    ),
]

# Where the key is required (a retry would move money twice), the OpenAPI document says so
# (`openapi_extra=REQUIRED_KEY_OPENAPI`), while the endpoint itself answers a missing key with
# its 428 (IdempotencyKeyRequired), not with FastAPI's generic 422.
RequiredIdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", min_length=KEY_MIN_LENGTH, max_length=KEY_MAX_LENGTH, include_in_schema=False
    ),
]
KEY_SCHEMA: dict[str, Any] = {"type": "string", "minLength": KEY_MIN_LENGTH, "maxLength": KEY_MAX_LENGTH}
REQUIRED_KEY_OPENAPI: dict[str, Any] = {
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": True,
            "description": KEY_TEXT + " Required here: without it the answer is 428.",
            "schema": KEY_SCHEMA,
            "example": "order-2026-11-30-0001",
        }
    ]
}
# A route that reads the optional key itself (`idempotency_key_of`) declares it with this.
OPTIONAL_KEY_OPENAPI: dict[str, Any] = {
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": KEY_TEXT,
            "schema": KEY_SCHEMA,
        }
    ]
}
_KEY_VALUE = TypeAdapter(
    Annotated[str, StringConstraints(min_length=KEY_MIN_LENGTH, max_length=KEY_MAX_LENGTH)]
)


def idempotency_key_of(request: Request) -> str | None:
    """The request's `Idempotency-Key`, read as the `IdempotencyKey` header parameter reads it
    (422 naming the header when it is too short or too long), for a route that takes no header
    parameters: FastAPI's resolution of one costs more than this (issue 21: the quote and the
    order)."""
    sent = request.headers.get("idempotency-key")
    if sent is None:
        return None
    try:
        return _KEY_VALUE.validate_python(sent)
    except ValidationError as invalid:
        raise RequestValidationError(
            [{**error, "loc": ("header", "Idempotency-Key", *error["loc"])} for error in invalid.errors()]
        ) from None


class IdempotencyKeyReused(MarketError):
    code, title, status = "idempotency-key-reused", "Idempotency key reused", 422


class IdempotencyKeyRequired(MarketError):
    """Where a retry would move money twice (orders, refunds), the key is not optional."""

    code, title, status = "idempotency-key-required", "Idempotency-Key required", 428

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} need an Idempotency-Key header, so that a retry never does it twice",
            fields=[("header.Idempotency-Key", "required")],
        )


T = TypeVar("T")


def request_fingerprint(
    body: BaseModel | dict[str, Any] | None, path: Mapping[str, object] | None = None
) -> str:
    """SHA-256 of the request as parsed: its body and, when given, its path parameters.

    Path parameters are part of what was asked: the same key and body sent to another object
    (another registration, another price entry) is a different request, refused, not replayed.
    Without them the hash is that of the body alone, as it always was.
    """
    data: Any = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    if path:
        data = {"body": data, "path": {name: str(value) for name, value in sorted(path.items())}}
    raw = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


class AlreadyAnswered(MarketError):
    """This key's first request was answered already: its response is sent again, and what this
    request did meanwhile is rolled back (see `IdempotentRequest.optimistic`)."""

    def __init__(self, answer: JSONResponse) -> None:
        super().__init__("replayed", status=answer.status_code)
        self.answer = answer


def _replayed(found: IdempotencyRecord) -> JSONResponse:
    return JSONResponse(
        json.loads(found.response_body),
        status_code=found.status_code,
        headers={"Idempotent-Replayed": "true"},
    )


@dataclass(frozen=True)
class IdempotentRequest:
    """One creating request under an optional `Idempotency-Key`, as an endpoint uses it::

        call = idempotent(session, principal.actor, idempotency_key, "grants.create", data)
        if replayed := await call.replay():
            return replayed
        return await call.remember(grant_out(await service.issue_grant(session, principal, data)))

    Without a key every step does nothing. A response that must not be replayed (a refusal that
    the caller may fix and retry under the same key) is simply returned without `remember`.
    """

    session: AsyncSession
    owner: str
    key: str | None
    operation: str
    fingerprint: str
    # Hot paths (quotes, orders) skip the look-up before the work: the key is claimed by the
    # INSERT that remembers the response (ON CONFLICT DO NOTHING), and looked up only when it
    # conflicts, or when the work is refused ("already ordered"): a retry of an answered request
    # then rolls back what it did and gets the first response, as with the look-up first.
    optimistic: bool = False

    async def first(self) -> IdempotencyRecord | None:
        """The record of this key's first request, or None when the key is new (or absent).

        The same key with another request is refused: never replayed, never run again.
        """
        if self.key is None:
            return None
        stmt = select(IdempotencyRecord).where(
            IdempotencyRecord.owner == self.owner, IdempotencyRecord.key == self.key
        )
        found = (await self.session.execute(stmt)).scalar_one_or_none()
        if found is not None and (found.operation, found.request_hash) != (self.operation, self.fingerprint):
            raise IdempotencyKeyReused(
                "this Idempotency-Key was already used with a different request",
                fields=[("header.Idempotency-Key", "already used with another body or operation")],
            )
        return found

    async def replay(self) -> JSONResponse | None:
        """The first response for this key, or None when the key is new."""
        if self.optimistic or (found := await self.first()) is None:
            return None
        return _replayed(found)

    @asynccontextmanager
    async def answering(self) -> AsyncIterator[None]:
        """Around an optimistic request's work: a refusal is answered with this key's first
        response when it has one (the refusal came from finding the work done already)."""
        try:
            yield
        except Unauthenticated:
            raise  # a caller whose credential no longer counts is shown nothing, first answers too
        except MarketError as refusal:
            if self.optimistic and not isinstance(refusal, AlreadyAnswered):
                # Only once the caller's credential has been checked (market.db.direct.Rider).
                await settle_rider(self.session)
                if (found := await self.first()) is not None:
                    raise AlreadyAnswered(_replayed(found)) from refusal
            raise

    async def remember(self, response: T, status_code: int = 201) -> T:
        """Store `response` as this key's first response, in the request's transaction; return it.

        A concurrent request with the same key then fails on the unique (owner, key) constraint
        and its whole transaction rolls back: never two creations for one key.
        """
        if self.key is None:
            return response
        values = {
            "id": uuid.uuid4(),
            "owner": self.owner,
            "key": self.key,
            "operation": self.operation,
            "request_hash": self.fingerprint,
            "status_code": status_code,
            "response_body": _as_json(response),
            "created_at": now(),  # the business clock, which the purge job reads too
        }
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            # The key is claimed in the statement that writes the request's work (one round
            # trip, market.db.together); a conflict rolls it all back below.
            produced = await flush_with(self.session, lambda batch: _claim_key(batch, values))
            if produced is not None:
                if produced[0] is None or produced[0].count == 0:
                    found = await self.first()
                    assert found is not None
                    raise AlreadyAnswered(_replayed(found))
                return response
            # Written by the unit of work: now, so that a check riding with the writes
            # (market.db.pending) refuses in this request, before the answer is kept.
            await self.session.flush()
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        stmt = (
            insert(IdempotencyRecord)
            .values(values)
            .on_conflict_do_nothing(index_elements=["owner", "key"])
            .returning(IdempotencyRecord.id)
        )
        if (await self.session.execute(stmt)).first() is None:
            # A concurrent request with this key answered first: this one's work is rolled back.
            found = await self.first()
            assert found is not None
            raise AlreadyAnswered(_replayed(found))
        return response


def _as_json(response: object) -> str:
    """The response as the JSON its replay parses: a model through its own serialiser (by alias,
    as FastAPI answers), anything else as FastAPI's encoder makes it."""
    if isinstance(response, BaseModel):
        return response.model_dump_json(by_alias=True)
    return json.dumps(jsonable_encoder(response))


_RECORDS = cast(Table, IdempotencyRecord.__table__)


def _claim_key(batch: together.Batch, values: dict[str, Any]) -> None:
    insert = together.insert_sql(batch, _RECORDS, [values])
    batch.parts.append(
        together.Part(f'{insert} ON CONFLICT (owner, "key") DO NOTHING RETURNING 1', counted=True)
    )


def idempotent(
    session: AsyncSession,
    owner: str,
    key: str | None,
    operation: str,
    body: BaseModel | dict[str, Any] | None,
    /,
    *,
    optimistic: bool = False,
    **path: object,
) -> IdempotentRequest:
    """The request `operation` by `owner` with `body`; `path` names the object it acts on.

    Positional-only, so a path parameter may be called `key` or `body` like any other.
    """
    # Without a key nothing is looked up or kept, so the request is not hashed (an unkeyed quote).
    fingerprint = request_fingerprint(body, path) if key is not None else ""
    return IdempotentRequest(session, owner, key, operation, fingerprint, optimistic)
