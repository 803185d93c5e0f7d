"""HTTP: grants, revocations and a resource's rights tree with each node's validity."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response, status

from contracts import grant_to_odrl
from market.auth.principal import Authenticated
from market.common.iris import Iris
from market.common.linked_data import (
    LINKED_DATA_RESPONSES,
    LinkedDataFormat,
    LinkedDataWanted,
    NotAcceptable,
    linked_data_response,
)
from market.db.session import Session
from market.errors import Conflict, Forbidden, NotFound, problem_responses
from market.idempotency.service import IdempotencyKey, idempotent
from market.rights import service
from market.rights.models import RightGrantRow
from market.rights.schemas import (
    AffectedLicence,
    GrantCreate,
    GrantOut,
    Revocation,
    RevocationOut,
)
from market.rights.validity import to_contract_grant
from market.runtime import AppSettings, PublicIris

router = APIRouter(prefix="/v1", tags=["rights"])


def grant_out(g: RightGrantRow) -> GrantOut:
    return GrantOut.model_validate(g, from_attributes=True)


@router.post(
    "/grants",
    status_code=status.HTTP_201_CREATED,
    response_model=GrantOut,
    summary="Grant a processing or operating right under a right you hold (Art. 22)",
    responses=problem_responses(NotFound, Forbidden),
)
async def issue(
    data: GrantCreate, session: Session, principal: Authenticated, idempotency_key: IdempotencyKey = None
) -> Any:
    call = idempotent(session, principal.actor, idempotency_key, "grants.create", data)
    if replayed := await call.replay():
        return replayed
    return await call.remember(grant_out(await service.issue_grant(session, principal, data)))


@router.get(
    "/grants/{grant_id}",
    response_model=GrantOut,
    responses={**LINKED_DATA_RESPONSES, **problem_responses(NotFound)},
    summary="A grant (its holder, its grantor, operators); as linked data, its ODRL policy",
)
async def read(
    grant_id: uuid.UUID, session: Session, principal: Authenticated, iris: PublicIris, ld: LinkedDataWanted
) -> Any:
    grant = await service.visible_grant(session, principal, grant_id)
    if ld:
        return await linked_data_response(grant_document(grant, iris), ld)
    return grant_out(grant)


def grant_document(grant: RightGrantRow, iris: Iris) -> dict[str, Any]:
    assigner = str(grant.granted_by_id) if grant.granted_by_id else None
    return iris.document(grant_to_odrl(to_contract_grant(grant), iris, assigner_id=assigner))


@router.get(
    "/grants/{grant_id}/odrl",
    response_class=Response,
    responses={**LINKED_DATA_RESPONSES, **problem_responses(NotFound, NotAcceptable)},
    summary="The grant as an ODRL 2.2 policy (JSON-LD, or Turtle when asked)",
)
async def odrl(
    grant_id: uuid.UUID, session: Session, principal: Authenticated, iris: PublicIris, ld: LinkedDataFormat
) -> Response:
    grant = await service.visible_grant(session, principal, grant_id)
    return await linked_data_response(grant_document(grant, iris), ld)


@router.post(
    "/grants/{grant_id}/revocation",
    response_model=RevocationOut,
    summary="Revoke a grant; everything beneath it becomes invalid",
    responses=problem_responses(NotFound, Forbidden, Conflict),
)
async def revoke(
    grant_id: uuid.UUID, data: Revocation, settings: AppSettings, session: Session, principal: Authenticated
) -> RevocationOut:
    grant, affected, outcomes = await service.revoke_grant(
        session, settings, principal, grant_id, data.reason, refund_licences=data.refund_licences
    )
    return RevocationOut(
        grant=grant_out(grant),
        invalidated=affected,
        licences=[AffectedLicence.model_validate(o, from_attributes=True) for o in outcomes],
    )
