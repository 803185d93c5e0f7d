"""Concurrent buyers can never oversell an exclusive or stock-limited product.

PostgreSQL locks the data for an exclusive claim and counts stock in one conditional UPDATE;
the embedded SQLite default serialises writers. Both hold.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select, text

from market.catalog.models import Product
from market.orders.models import Order
from tests.api.compliance_factories import listed_product
from tests.api.factories import Api
from tests.api.orders_factories import sealed_quote


async def race(api: Api, client: Any, app: Any, buyers: int, **product_fields: Any) -> tuple[list[int], str]:
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


async def test_fifty_buyers_one_exclusive_licence(api: Api, client: Any, app: Any, backend: str) -> None:
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


@pytest.mark.postgres_only
async def test_a_refund_waiting_for_its_payment_holds_no_lock_on_the_order(
    api: Api, client: Any, app: Any, backend: str
) -> None:
    """Refunds lock payment then order, as confirmations and webhooks do, so they cannot deadlock.

    Someone else holds the payment row; the refund must wait for it without having locked the
    order first (the order is then still free to lock), and finish once the payment is free.
    """
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    product = await listed_product(app, seller.participant_id)
    quote_id = await sealed_quote(app, product["product_id"], buyer.participant_id, total_minor=9_000)
    order = await client.post(
        "/v1/orders",
        json={"quote_id": quote_id},
        headers={**buyer.headers, "Idempotency-Key": "lock-order-1"},
    )
    order_id = order.json()["id"]
    assert (await client.post(f"/v1/payments/{order_id}/confirmation", headers=operator)).status_code == 200

    engine = app.state.engine
    async with engine.connect() as holder:
        await holder.begin()
        await holder.execute(
            text("SELECT id FROM payments WHERE order_id = :o FOR UPDATE"), {"o": uuid.UUID(order_id)}
        )
        refund = asyncio.create_task(
            client.post(
                f"/v1/orders/{order_id}/refund",
                json={"reason": "lock order probe"},
                headers={**operator, "Idempotency-Key": "lock-order-refund-1"},
            )
        )
        holder_pid = (await holder.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        # Wait until the refund's backend is blocked by ours (each poll is its own snapshot).
        for _ in range(200):
            async with engine.connect() as probe:
                blocked = (
                    await probe.execute(
                        text("SELECT count(*) FROM pg_stat_activity WHERE :h = ANY(pg_blocking_pids(pid))"),
                        {"h": holder_pid},
                    )
                ).scalar_one()
            if blocked or refund.done():
                break
            await asyncio.sleep(0.05)
        assert blocked == 1 and not refund.done(), "the refund did not wait for the payment row"
        async with engine.connect() as other:
            await other.begin()
            # NOWAIT: fails at once (55P03) if the waiting refund had taken the order row first.
            await other.execute(
                text("SELECT id FROM orders WHERE id = :o FOR UPDATE NOWAIT"), {"o": uuid.UUID(order_id)}
            )
            await other.rollback()
        await holder.rollback()
    done = await asyncio.wait_for(refund, 30)
    assert done.status_code == 201, done.text
