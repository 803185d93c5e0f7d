"""Concurrent buyers can never oversell an exclusive or stock-limited product.

PostgreSQL locks the product row; the embedded SQLite default serialises writers. Both hold.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import func, select

from market.catalog.models import Product
from market.orders.models import Order
from tests.api.compliance_factories import listed_product
from tests.api.factories import Api
from tests.api.orders_factories import sealed_quote


async def race(
    api: Api, client: Any, app: Any, buyers: int, **product_fields: Any
) -> tuple[list[int], str]:
    seller = await api.org()
    product = await listed_product(app, seller.participant_id)
    async with app.state.sessionmaker() as s, s.begin():
        row = await s.get(Product, uuid.UUID(product["product_id"]))
        assert row is not None
        for field, value in product_fields.items():
            setattr(row, field, value)
    parties = [await api.org(roles=("buyer",)) for _ in range(buyers)]
    quotes = [await sealed_quote(app, product["product_id"], p.participant_id) for p in parties]

    async def buy(party: Any, quote_id: str) -> int:
        r = await client.post(
            "/v1/orders",
            json={"quote_id": quote_id},
            headers={**party.headers, "Idempotency-Key": f"race-{quote_id}"},
        )
        assert r.status_code in (201, 409), r.text
        if r.status_code == 409:
            assert r.json()["type"].endswith("/sold-out"), r.json()
        return int(r.status_code)

    statuses = await asyncio.gather(*(buy(p, q) for p, q in zip(parties, quotes, strict=True)))
    return list(statuses), product["product_id"]


async def test_fifty_buyers_one_exclusive_licence(
    api: Api, client: Any, app: Any, backend: str
) -> None:
    statuses, product_id = await race(api, client, app, 50, exclusivity="exclusive")
    assert statuses.count(201) == 1
    assert statuses.count(409) == 49
    async with app.state.sessionmaker() as s:
        orders = await s.scalar(
            select(func.count()).select_from(Order).where(Order.product_id == uuid.UUID(product_id))
        )
    assert orders == 1


async def test_stock_limit_is_never_exceeded(api: Api, client: Any, app: Any, backend: str) -> None:
    statuses, product_id = await race(api, client, app, 30, stock_limit=7)
    assert statuses.count(201) == 7
    async with app.state.sessionmaker() as s:
        product = await s.get(Product, uuid.UUID(product_id))
        assert product is not None and product.sold_count == 7
