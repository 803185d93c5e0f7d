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
        seal(quote)
        session.add(quote)
        await session.flush()
        return str(quote.id)
