"""Art. 70 over a product's real quote history: same conditions, different price, no exception."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from market.catalog import products
from market.errors import NotFound
from market.orders import repository
from pricing import FairnessFinding, QuotedTrade, TradeConditions, find_discrimination


async def product_fairness(session: AsyncSession, product_id: uuid.UUID) -> list[FairnessFinding]:
    product = await products.find(session, product_id)
    if product is None:
        raise NotFound("product not found")
    rows = await repository.quote_history(session, product_id)
    term = str(product.licence_template.get("term_days"))
    history = [
        QuotedTrade(
            quote_id=str(q.id),
            buyer_id=str(q.buyer_id),
            conditions=TradeConditions(
                security=product.grade,
                cost=product.delivery_mode,
                credit=credit,
                steps="standard",
                duration=term,
            ),
            quantity=int(q.quantity),
            purpose=q.purpose,
            plan_version=q.plan_version,
            total_minor=q.total_minor,
            discount_codes=tuple(line["code"] for line in q.body.get("lines", [])),
        )
        for q, credit in rows
    ]
    return find_discrimination(history)
