"""Oversight statistics: settled trades counted by category and period; refunds apart."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from market.common import clock
from tests.api.compliance_factories import listed_product
from tests.api.factories import Api
from tests.api.orders_factories import sealed_quote


async def test_stats_by_category_and_period(api: Api, client: Any, app: Any) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    authority = await api.staff("price_authority")
    ids = []
    for total in (10_000, 30_000, 5_000):
        product = await listed_product(app, seller.participant_id)
        quote = await sealed_quote(app, product["product_id"], buyer.participant_id, total_minor=total)
        order = (
            await client.post(
                "/v1/orders",
                json={"quote_id": quote},
                headers={**buyer.headers, "Idempotency-Key": uuid.uuid4().hex},
            )
        ).json()
        ids.append(order["id"])
    for order_id in ids[:2]:
        await client.post(f"/v1/payments/{order_id}/confirmation", headers=operator)
    await client.post(f"/v1/payments/{ids[2]}/confirmation", headers=operator)
    await client.post(
        f"/v1/orders/{ids[2]}/refund",
        headers={**operator, "Idempotency-Key": uuid.uuid4().hex},
        json={"reason": "not as described"},
    )
    rows = (await client.get("/v1/stats?period=month", headers=authority)).json()
    assert len(rows) == 1
    row = rows[0]
    assert (row["category"], row["trades"], row["value_minor"], row["refunded_trades"]) == (
        "enterprise",
        2,
        40_000,
        1,
    )
    assert row["commission_minor"] == 500 + 1500
    assert (await client.get("/v1/stats", headers=seller.headers)).status_code == 403
    assert (await client.get("/v1/stats?period=week", headers=operator)).status_code == 422


async def test_periods_follow_the_beijing_calendar_not_utc(api: Api, client: Any, app: Any) -> None:
    """An order at 17:30 UTC is already the next day in Beijing (UTC+8), and counts there."""
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    at = clock.now()
    evening = at.replace(hour=17, minute=30, second=0, microsecond=0)
    if evening <= at:
        evening += timedelta(days=1)
    clock.advance(evening - at)
    try:
        product = await listed_product(app, seller.participant_id)
        quote = await sealed_quote(app, product["product_id"], buyer.participant_id, total_minor=7_000)
        order = (
            await client.post(
                "/v1/orders",
                json={"quote_id": quote},
                headers={**buyer.headers, "Idempotency-Key": uuid.uuid4().hex},
            )
        ).json()
        await client.post(f"/v1/payments/{order['id']}/confirmation", headers=operator)
        rows = (await client.get("/v1/stats?period=day", headers=operator)).json()
    finally:
        clock.reset()
    beijing_day = (evening + timedelta(days=1)).date().isoformat()
    assert [(r["period"], r["trades"], r["value_minor"]) for r in rows] == [(beijing_day, 1, 7_000)]
