"""HTTP: trade volume and value by data category and period (operators, price authority)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select

from market.auth.principal import Principal, require_roles
from market.catalog.models import Product
from market.db.session import Session
from market.orders.models import Order
from market.registry.workdays import BEIJING

router = APIRouter(prefix="/v1", tags=["oversight"])
Overseer = Annotated[Principal, Depends(require_roles("operator", "auditor", "price_authority"))]
SETTLED = ("paid", "delivered", "completed", "disputed")


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
    stmt = (
        select(
            Order.created_at,
            Order.status,
            Order.total_minor,
            Order.commission_minor,
            Order.currency,
            Product.category,
        )
        .join(Product, Product.id == Order.product_id)
        .where(Order.status.in_((*SETTLED, "refunded")))
    )
    if since is not None:
        stmt = stmt.where(Order.created_at >= since)
    if until is not None:
        stmt = stmt.where(Order.created_at < until)
    fmt = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}[period]
    rows: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for created, state, total, commission, currency, category in (await session.execute(stmt)).all():
        key = (created.astimezone(BEIJING).strftime(fmt), category, currency)
        acc = rows[key]
        if state == "refunded":
            acc[3] += 1
            continue
        acc[0] += 1
        acc[1] += total
        acc[2] += commission
    return [
        StatRow(
            period=p,
            category=c,
            currency=cur,
            trades=v[0],
            value_minor=v[1],
            commission_minor=v[2],
            refunded_trades=v[3],
        )
        for (p, c, cur), v in sorted(rows.items())
    ]
