"""Exclusively licensed data bought from a prepaid balance: the order's claim on the data is
checked in the same statement that takes the money (issue 21), so a buyer who comes second is
refused as before (409 sold-out) and keeps every fen."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from market.catalog.models import Product
from market.orders.models import Order
from tests.api.factories import Api
from tests.api.prepaid_factories import (
    accounts_balance,
    balance,
    funded_buyer,
    order_from_balance,
    quotable_product,
    quote,
)

PRICE_MINOR = 10_000  # quotable_product's 100.00 yuan


async def exclusive_product(api: Api) -> str:
    product_id = await quotable_product(api, await api.org())
    async with api.app.state.sessionmaker() as s, s.begin():
        row = await s.get(Product, uuid.UUID(product_id))
        assert row is not None
        row.exclusivity = "exclusive"
    return product_id


async def orders_of(api: Api, product_id: str) -> int:
    async with api.app.state.sessionmaker() as s:
        found = await s.scalar(
            select(func.count()).select_from(Order).where(Order.product_id == uuid.UUID(product_id))
        )
    return int(found or 0)


async def test_the_second_prepaid_buyer_of_exclusive_data_is_refused_and_keeps_the_balance(
    api: Api, backend: str
) -> None:
    operator = await api.staff("operator")
    product_id = await exclusive_product(api)
    (first, first_account), (second, second_account) = [
        await funded_buyer(api, operator, 50_000) for _ in range(2)
    ]
    first_quote, second_quote = await quote(api, first, product_id), await quote(api, second, product_id)

    bought = await order_from_balance(api, first, first_quote["id"])
    assert bought.status_code == 201, bought.text
    assert bought.json()["status"] == "delivered"

    refused = await order_from_balance(api, second, second_quote["id"])
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["type"].endswith("/sold-out"), problem
    assert "exclusively" in problem["detail"], problem
    assert await balance(api, first, first_account) == 50_000 - PRICE_MINOR
    assert await balance(api, second, second_account) == 50_000  # nothing was kept
    assert await orders_of(api, product_id) == 1
    await accounts_balance(api)


@pytest.mark.postgres_only
async def test_prepaid_buyers_racing_for_exclusive_data_pay_once(api: Api, backend: str) -> None:
    operator = await api.staff("operator")
    product_id = await exclusive_product(api)
    buyers = [await funded_buyer(api, operator, 50_000) for _ in range(8)]
    quotes = [await quote(api, buyer, product_id) for buyer, _ in buyers]

    answers = await asyncio.gather(
        *(order_from_balance(api, buyer, q["id"]) for (buyer, _), q in zip(buyers, quotes, strict=True))
    )
    statuses = [a.status_code for a in answers]
    assert statuses.count(201) == 1, [a.text for a in answers]
    assert statuses.count(409) == 7, [a.text for a in answers]
    assert all(a.json()["type"].endswith("/sold-out") for a in answers if a.status_code == 409)
    balances: list[Any] = [await balance(api, buyer, account) for buyer, account in buyers]
    assert sorted(balances) == [50_000 - PRICE_MINOR] + [50_000] * 7
    assert await orders_of(api, product_id) == 1
    await accounts_balance(api)
