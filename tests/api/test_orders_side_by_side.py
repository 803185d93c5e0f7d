"""Orders over the same data, side by side on PostgreSQL (SQLite runs one writing transaction at
a time): only a claim that could clash makes an order wait.

- Two non-exclusive orders never clash, so neither waits for the other, through one product or
  two; an exclusive order over the same data waits for both, and is then refused.
- The product's row is not held from an order's first read: its unit is counted by one
  conditional UPDATE with the order's writes. A product suspended while an order is under way
  is not held up by it, and the order is refused when it writes (nothing kept, nothing
  charged); the last unit sold meanwhile refuses the other order the same way.

On the code before, an order locked the product and its resources exclusively from its first
read: the second buyer of a product, and its suspension, waited for the first order's commit.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from market.catalog.models import Product
from market.orders.models import Order
from tests.api.compliance_factories import listed_product
from tests.api.factories import Api, Party, row_count
from tests.api.orders_factories import sealed_quote
from tests.api.prepaid_factories import balance, funded_buyer, order_from_balance
from tests.api.settlement_factories import product_on
from tests.api.test_revoked_meanwhile import until_waiting

pytestmark = pytest.mark.postgres_only

PRICE = 10_000


async def buyers_with_quotes(
    api: Api, app: Any, operator: dict[str, str], product_ids: list[str]
) -> list[tuple[Party, str, str]]:
    """For each product, a buyer with a balance of 5 × PRICE, its account and a sealed quote."""
    found = []
    for product_id in product_ids:
        buyer, account_id = await funded_buyer(api, operator, 5 * PRICE)
        quote_id = await sealed_quote(app, product_id, buyer.participant_id, total_minor=PRICE)
        found.append((buyer, account_id, quote_id))
    return found


async def test_non_exclusive_orders_over_one_resource_do_not_wait_for_each_other(
    api: Api, app: Any, backend: str
) -> None:
    seller = await api.org()
    operator = await api.staff("operator")
    listed = await listed_product(app, seller.participant_id)
    resource = {"resource_id": listed["resource_id"], "holding_grant_id": listed["holding_grant_id"]}
    second = await product_on(app, seller.participant_id, resource)
    exclusive = await product_on(app, seller.participant_id, resource, exclusivity="exclusive")
    (first_buyer, first_account, first_quote), *others = await buyers_with_quotes(
        api, app, operator, [listed["product_id"], listed["product_id"], second, exclusive]
    )
    async with app.state.sessionmaker() as holding:
        # Another of the first buyer's requests holds its balance: its order claims the data,
        # then waits for the balance, its claim not yet committed.
        await holding.execute(
            text("SELECT id FROM prepaid_accounts WHERE id = :id FOR UPDATE"),
            {"id": uuid.UUID(first_account)},
        )
        first = asyncio.create_task(order_from_balance(api, first_buyer, first_quote))
        await until_waiting(app, first, 1)
        # The same product and another product over the same data: both are delivered now.
        for buyer, _account, quote_id in others[:2]:
            placed = await asyncio.wait_for(order_from_balance(api, buyer, quote_id), timeout=10)
            assert placed.status_code == 201, placed.text
            assert placed.json()["status"] == "delivered"
        # An exclusive claim would clash with the first order's: it waits for that order.
        buyer, exclusive_account, quote_id = others[2]
        late = asyncio.create_task(order_from_balance(api, buyer, quote_id))
        await until_waiting(app, late, 2)
        assert not late.done()
        await holding.rollback()
    assert (await first).status_code == 201
    refused = await late
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"].endswith("/sold-out")
    assert await row_count(app, Order) == 3
    assert await balance(api, buyer, exclusive_account) == 5 * PRICE


async def test_a_product_suspended_while_ordered_is_not_held_up_and_the_order_is_refused(
    api: Api, app: Any, backend: str
) -> None:
    operator = await api.staff("operator")
    listed = await listed_product(app, (await api.org()).participant_id)
    ((buyer, account_id, quote_id),) = await buyers_with_quotes(api, app, operator, [listed["product_id"]])
    async with app.state.sessionmaker() as revoking:
        # Something holds the resource's row (as a revocation does): the order has read the
        # product, listed, and waits for the resource.
        await revoking.execute(
            text("SELECT id FROM data_resources WHERE id = :id FOR UPDATE"),
            {"id": uuid.UUID(listed["resource_id"])},
        )
        ordering = asyncio.create_task(order_from_balance(api, buyer, quote_id))
        await until_waiting(app, ordering, 1)
        suspended = await asyncio.wait_for(
            api.client.post(
                f"/v1/listings/{listed['product_id']}/decision",
                json={"action": "suspend", "reason": "the seller's licence is under review"},
                headers=operator,
            ),
            timeout=10,
        )
        assert suspended.status_code == 200, suspended.text
        await revoking.rollback()
    refused = await ordering
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/product-not-listed")
    assert await row_count(app, Order) == 0
    assert await balance(api, buyer, account_id) == 5 * PRICE
    async with app.state.sessionmaker() as s:
        product = await s.get(Product, uuid.UUID(listed["product_id"]))
        assert product is not None and product.sold_count == 0


async def test_the_last_unit_sold_while_another_order_waited_refuses_it(
    api: Api, app: Any, backend: str
) -> None:
    operator = await api.staff("operator")
    listed = await listed_product(app, (await api.org()).participant_id)
    async with app.state.sessionmaker() as s, s.begin():
        product = await s.get(Product, uuid.UUID(listed["product_id"]))
        assert product is not None
        product.stock_limit = 1
    pairs = await buyers_with_quotes(api, app, operator, [listed["product_id"]] * 2)
    async with app.state.sessionmaker() as revoking:
        await revoking.execute(
            text("SELECT id FROM data_resources WHERE id = :id FOR UPDATE"),
            {"id": uuid.UUID(listed["resource_id"])},
        )
        # Both orders read the product with its one unit left, then wait for the resource.
        orders = [
            asyncio.create_task(order_from_balance(api, buyer, quote_id)) for buyer, _, quote_id in pairs
        ]
        await until_waiting(app, asyncio.gather(*orders), 2)
        await revoking.rollback()
    answers = [await placed for placed in orders]
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    (refused,) = [a for a in answers if a.status_code == 409]
    assert refused.json()["type"].endswith("/sold-out")
    assert await row_count(app, Order) == 1
    balances = sorted([await balance(api, buyer, account_id) for buyer, account_id, _ in pairs])
    assert balances == [4 * PRICE, 5 * PRICE]
    async with app.state.sessionmaker() as s:
        product = await s.get(Product, uuid.UUID(listed["product_id"]))
        assert product is not None and product.sold_count == 1
