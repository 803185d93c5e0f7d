"""A returning prepaid buyer: once a debit found the buyer's account, a later order takes the
money in the same statement that writes the order (issue 21, PostgreSQL). The refusals and the
guarantees are the ones of a first order: a short balance is a 402 that keeps nothing (and
concurrent orders never overdraw: test_prepaid_accounts.py, `returning`)."""

from __future__ import annotations

from typing import Any

from market.orders.models import Order
from market.payments.models import Payment
from tests.api.compliance_factories import listed_product
from tests.api.factories import Api, Party, row_count
from tests.api.orders_factories import sealed_quote
from tests.api.prepaid_factories import accounts_balance, balance, funded_buyer, key, order_from_balance

PRICE_MINOR = 10_000


async def priced_quote(api: Api, app: Any, buyer: Party) -> str:
    """A quote of another seller's product (so orders contend on the balance only)."""
    seller = await api.org()
    product = await listed_product(app, seller.participant_id)
    return await sealed_quote(app, product["product_id"], buyer.participant_id, total_minor=PRICE_MINOR)


async def test_a_returning_buyer_short_of_balance_gets_402_and_keeps_nothing(
    api: Api, app: Any, backend: str
) -> None:
    operator = await api.staff("operator")
    buyer, account_id = await funded_buyer(api, operator, 15_000)
    first = await order_from_balance(api, buyer, await priced_quote(api, app, buyer))
    assert first.status_code == 201, first.text
    orders_before, payments_before = await row_count(app, Order), await row_count(app, Payment)

    refused = await order_from_balance(api, buyer, await priced_quote(api, app, buyer), key("again"))
    assert refused.status_code == 402, refused.text
    problem = refused.json()
    assert problem["type"].endswith("/insufficient-balance"), problem
    assert problem["balance_minor"] == 5_000 and problem["required_minor"] == PRICE_MINOR, problem
    assert any(f["field"] == "body.payment_method" for f in problem["errors"]), problem
    assert (await row_count(app, Order), await row_count(app, Payment)) == (orders_before, payments_before)
    assert await balance(api, buyer, account_id) == 5_000
    await accounts_balance(api)
