"""A new-customer offer (Art. 70) is quoted to a buyer who has not bought from the seller, and
not to one who has: the quote reads the buyer's history with the seller together with the product."""

from __future__ import annotations

import uuid
from datetime import timedelta

from market.catalog.models import Product
from market.common.clock import now
from tests.api.factories import Api
from tests.api.prepaid_factories import funded_buyer, order_from_balance, quotable_product, quote


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
    first = await quote(api, buyer, product_id)
    assert first["total_minor"] == 9_000  # 100.00 less the 10 % new-customer offer
    order = await order_from_balance(api, buyer, first["id"])
    assert order.status_code == 201, order.text
    assert (await quote(api, buyer, product_id))["total_minor"] == 10_000  # returning: the plan's price
