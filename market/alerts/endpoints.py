"""HTTP: risk alerts for operators (Art. 61)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from market.alerts import repository, service
from market.alerts.models import RiskAlert
from market.auth.principal import Operator
from market.common.pagination import Cursor, Limit, Page, page_of
from market.common.schemas import StrictModel, examples
from market.db.session import Session
from market.errors import Conflict, NotFound, problem_responses

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])


class AlertOut(BaseModel):
    id: uuid.UUID
    rule: str
    severity: str
    subject_type: str
    subject_id: str
    summary: str
    evidence: dict[str, Any]
    status: str
    acknowledged_by: str | None
    acknowledgement: str | None
    acknowledged_at: datetime | None
    created_at: datetime


class Acknowledgement(StrictModel):
    model_config = examples({"reason": "checked: a legitimate bulk purchase"})

    reason: str = Field(min_length=3, max_length=2000)


def alert_out(a: RiskAlert) -> AlertOut:
    return AlertOut.model_validate(a, from_attributes=True)


@router.get("", response_model=Page[AlertOut], summary="Risk warnings on abnormal trades, with evidence")
async def alerts(
    session: Session,
    principal: Operator,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: Annotated[str | None, Query(pattern="^(open|acknowledged)$")] = None,
    rule: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[AlertOut]:
    rows = await repository.page(session, status=status, rule=rule, cursor=cursor, limit=limit)
    return page_of(rows, limit, alert_out)


@router.post(
    "/{alert_id}/acknowledgement",
    response_model=AlertOut,
    summary="Acknowledge an alert with a reason (audited)",
    responses=problem_responses(NotFound, Conflict),
)
async def acknowledge(
    alert_id: uuid.UUID, data: Acknowledgement, session: Session, principal: Operator
) -> AlertOut:
    return alert_out(await service.acknowledge(session, alert_id, data.reason, principal.actor))
