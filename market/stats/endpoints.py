"""HTTP: trade volume and value by data category and period (operators, price authority)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from market.auth.principal import Principal, require_roles
from market.common.schemas import Instant
from market.db.session import Session
from market.orders import service as orders
from market.orders.schemas import TradeTotals

router = APIRouter(prefix="/v1", tags=["oversight"])
Overseer = Annotated[Principal, Depends(require_roles("operator", "auditor", "price_authority"))]


@router.get(
    "/stats",
    response_model=list[TradeTotals],
    summary="Trade volume and value by data category and period (Beijing calendar)",
)
async def stats(
    session: Session,
    principal: Overseer,
    period: Annotated[str, Query(pattern="^(day|month|year)$")] = "month",
    since: Instant | None = None,
    until: Instant | None = None,
) -> list[TradeTotals]:
    return await orders.trade_totals(session, period=period, since=since, until=until)
