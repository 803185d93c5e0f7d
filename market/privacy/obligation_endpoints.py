"""HTTP: licensee obligations after an upheld withdrawal or deletion (PIPL Art. 15, 47)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from market.auth.principal import Authenticated, Operator
from market.common.clock import now
from market.common.pagination import Cursor, Limit, Page, page_of
from market.db.session import Session
from market.errors import Conflict, Forbidden, NotFound, problem_responses
from market.privacy import obligations
from market.privacy.effects import REQUIRED
from market.privacy.models import LicenseeObligation
from market.privacy.schemas import Acknowledgement, ObligationOut, ObligationResolution

router = APIRouter(prefix="/v1/licensee-obligations", tags=["personal information"])
StatusFilter = Annotated[str | None, Query(pattern="^(pending|acknowledged|escalated|closed)$")]


def obligation_out(row: LicenseeObligation) -> ObligationOut:
    return ObligationOut.model_validate(
        {
            **{f: getattr(row, f) for f in ObligationOut.model_fields if hasattr(row, f)},
            "required": REQUIRED[row.cause_kind],
            "overdue": row.acknowledged_at is None and now() > row.due_at,
        }
    )


@router.get(
    "",
    response_model=Page[ObligationOut],
    summary="What a licensee owes (deleting or no longer using a person's data); sellers see those "
    "on their products, operators all",
)
async def list_obligations(
    session: Session,
    principal: Authenticated,
    status: StatusFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ObligationOut]:
    return page_of(await obligations.page(session, principal, status, cursor, limit), limit, obligation_out)


@router.get(
    "/{obligation_id}",
    response_model=ObligationOut,
    summary="One obligation (its licensee, the seller, operators)",
    responses=problem_responses(NotFound),
)
async def read_obligation(
    obligation_id: uuid.UUID, session: Session, principal: Authenticated
) -> ObligationOut:
    return obligation_out(await obligations.visible(session, principal, obligation_id))


@router.post(
    "/{obligation_id}/acknowledgement",
    response_model=ObligationOut,
    summary="The licensee states that it deleted, or stopped using, the data",
    responses=problem_responses(NotFound, Conflict, Forbidden),
)
async def acknowledge(
    obligation_id: uuid.UUID, data: Acknowledgement, session: Session, principal: Authenticated
) -> ObligationOut:
    return obligation_out(await obligations.acknowledge(session, principal, obligation_id, data))


@router.post(
    "/{obligation_id}/resolution",
    response_model=ObligationOut,
    summary="Operator: close an escalated obligation, revoking the licence if need be",
    responses=problem_responses(NotFound, Conflict, Forbidden),
)
async def resolve(
    obligation_id: uuid.UUID, data: ObligationResolution, session: Session, principal: Operator
) -> ObligationOut:
    return obligation_out(await obligations.resolve(session, principal, obligation_id, data))
