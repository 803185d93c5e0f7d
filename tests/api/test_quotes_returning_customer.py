"""A new-customer offer (Art. 70) is quoted to a buyer who has not bought from the seller, and
not to one who has: the quote reads the buyer's history with the product, in one statement."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from market.catalog.models import Product
from market.common.clock import now
from tests.api.factories import Api
from tests.api.prepaid_factories import funded_buyer, key, quotable_product


async def test_a_new_customer_offer_is_quoted_until_the_buyer_has_bought_from_the_seller(api: Api) -> None:
    operator = await api.staff("operator")
    seller = await api.org()
    product_id = await quotable_product(api, seller)
    async with api.app.state.sessionmaker() as s, s.begin():
        row = await s.get(Product, uuid.UUID(product_id))
        assert row is not None
        offer = {
            "kind": "new_customer",
            "pct": "10",
            "valid_from": (now() - timedelta(days=1)).isoformat(),
            "valid_to": (now() + timedelta(days=30)).isoformat(),
        }
        row.price_plan = {**row.price_plan, "discounts": [offer]}
    buyer, _ = await funded_buyer(api, operator, 50_000)
    body = {
        "product_id": product_id,
        "quantity": 1,
        "purpose": "risk_control",
        "scenario": "credit risk scoring",
    }

    async def quoted() -> dict[str, Any]:
        r = await api.client.post("/v1/quotes", json=body, headers={**buyer.headers, **key("quote")})
        assert r.status_code == 201, r.text
        return dict(r.json())

    first = await quoted()
    assert first["total_minor"] == 9_000  # 100.00 less the 10 % new-customer offer
    order = await api.client.post(
        "/v1/orders",
        json={"quote_id": first["id"], "payment_method": "account"},
        headers={**buyer.headers, **key("order")},
    )
    assert order.status_code == 201, order.text
    assert (await quoted())["total_minor"] == 10_000  # a returning customer pays the plan's price
