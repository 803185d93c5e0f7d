"""HTTP: trade volume and value by data category and period (operators, price authority)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from market.auth.principal import Principal, require_roles
from market.db.session import Session
from market.orders import service as orders

router = APIRouter(prefix="/v1", tags=["oversight"])
Overseer = Annotated[Principal, Depends(require_roles("operator", "auditor", "price_authority"))]


class StatRow(BaseModel):
    period: str
    category: str
    currency: str
    trades: int
    value_minor: int
    commission_minor: int
    refunded_trades: int


@router.get(
    "/stats",
    response_model=list[StatRow],
    summary="Trade volume and value by data category and period (Beijing calendar)",
)
async def stats(
    session: Session,
    principal: Overseer,
    period: Annotated[str, Query(pattern="^(day|month|year)$")] = "month",
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[StatRow]:
    rows = await orders.trade_totals(session, period=period, since=since, until=until)
    return [StatRow.model_validate(row, from_attributes=True) for row in rows]
