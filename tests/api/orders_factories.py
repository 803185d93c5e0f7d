"""A priced, sealed quote for a listed product, for order tests.

Quotes are normally issued by POST /v1/quotes; here the order path is under test, so the
quote is stored directly and sealed with the same digest function the service uses.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from market.common.clock import now
from market.orders.models import Quote
from market.orders.quotes import seal


async def sealed_quote(
    app: Any,
    product_id: str,
    buyer_id: str,
    *,
    total_minor: int = 10_000,
    purpose: str = "risk_control",
    scenario: str = "credit risk scoring",
    ttl: timedelta = timedelta(minutes=30),
    currency: str = "CNY",
) -> str:
    issued = now()
    async with app.state.sessionmaker() as session, session.begin():
        quote = Quote(
            product_id=uuid.UUID(product_id),
            buyer_id=uuid.UUID(buyer_id),
            quantity="1",
            purpose=purpose,
            scenario=scenario,
            cross_border=False,
            body={"lines": [{"code": "plan", "amount_minor": total_minor}]},
            total_minor=total_minor,
            currency=currency,
            digest="",
            plan_version=1,
            issued_at=issued,
            expires_at=issued + ttl,
        )
        seal(app.state.runtime.settings, quote)
        session.add(quote)
        await session.flush()
        return str(quote.id)


async def bought(
    client: Any, buyer_headers: dict[str, str], operator_headers: dict[str, str], product_id: str
) -> dict[str, Any]:
    """A buyer quotes, orders and (offline, confirmed by an operator) pays for a listed product.
    Returns the quote and the paid order (with its `licence_id`)."""
    quote = await client.post(
        "/v1/quotes",
        headers=buyer_headers,
        json={
            "product_id": product_id,
            "quantity": 1,
            "purpose": "risk_control",
            "scenario": "credit risk scoring",
        },
    )
    assert quote.status_code == 201, quote.text
    order = await client.post(
        "/v1/orders",
        json={"quote_id": quote.json()["id"]},
        headers={**buyer_headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert order.status_code == 201, order.text
    paid = await client.post(f"/v1/payments/{order.json()['id']}/confirmation", headers=operator_headers)
    assert paid.status_code == 200, paid.text
    return {"quote": quote.json(), "order": paid.json()}
