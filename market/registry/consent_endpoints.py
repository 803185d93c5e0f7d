"""HTTP: a personal resource's consent records (in versions) and its personal-data holds."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, status

from market.auth.principal import Authenticated, Operator, Seller
from market.db.session import Session
from market.errors import Conflict, Forbidden, NotFound, problem_responses
from market.idempotency.service import IdempotencyKey, idempotent
from market.registry import consents
from market.registry.models import ConsentRecord, PersonalDataHold
from market.registry.schemas import ConsentRecordCreate, ConsentRecordOut, HoldOut, HoldRelease

router = APIRouter(prefix="/v1/resources/{resource_id}", tags=["registry", "personal information"])


def consent_out(row: ConsentRecord) -> ConsentRecordOut:
    return ConsentRecordOut.model_validate(
        {
            **{f: getattr(row, f) for f in ConsentRecordOut.model_fields if f != "current"},
            "current": row.superseded_at is None,
        }
    )


def hold_out(row: PersonalDataHold) -> HoldOut:
    return HoldOut.model_validate(row, from_attributes=True)


@router.post(
    "/consent-records",
    status_code=status.HTTP_201_CREATED,
    response_model=ConsentRecordOut,
    summary="Record a new version of the consent a personal resource rests on "
    "(Art. 43; PIPL Art. 13, 23, 29)",
    responses=problem_responses(NotFound, Conflict),
)
async def record_consent(
    resource_id: uuid.UUID,
    data: ConsentRecordCreate,
    session: Session,
    principal: Seller,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    call = idempotent(
        session, principal.actor, idempotency_key, "consent_records.create", data, resource_id=resource_id
    )
    if replayed := await call.replay():
        return replayed
    return await call.remember(
        consent_out(await consents.record_consent(session, principal, resource_id, data))
    )


@router.get(
    "/consent-records",
    response_model=list[ConsentRecordOut],
    summary="Every version of the resource's consent record, newest first (owner, operators, auditors)",
    responses=problem_responses(NotFound),
)
async def consent_history(
    resource_id: uuid.UUID, session: Session, principal: Authenticated
) -> list[ConsentRecordOut]:
    return [consent_out(r) for r in await consents.history(session, principal, resource_id)]


@router.get(
    "/holds",
    response_model=list[HoldOut],
    summary="Personal-data holds: a person's data that must leave the resource before it is sold again",
    responses=problem_responses(NotFound),
)
async def holds(resource_id: uuid.UUID, session: Session, principal: Authenticated) -> list[HoldOut]:
    return [hold_out(h) for h in await consents.holds_of(session, principal, resource_id)]


@router.post(
    "/holds/{hold_id}/release",
    response_model=HoldOut,
    summary="Operator: the seller removed the person's data; the resource may be sold again",
    responses=problem_responses(NotFound, Conflict, Forbidden),
)
async def release_hold(
    resource_id: uuid.UUID, hold_id: uuid.UUID, data: HoldRelease, session: Session, principal: Operator
) -> HoldOut:
    return hold_out(await consents.release_hold(session, principal, resource_id, hold_id, data))
