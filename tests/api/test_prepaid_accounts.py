"""Prepaid accounts end to end: an operator enables a buyer, the buyer tops up (bank transfer an
operator confirms, or a card Stripe reports), and buys in two requests (quote, order paid from
the balance, delivered at once). A short balance is a 402 that keeps nothing; refunds go back to
the balance; concurrent orders never overdraw; the books balance to the fen."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from market.orders.models import Order
from market.payments.models import Payment
from market.payments.stripe_provider import StripeProvider
from tests.api import runtime_swaps as swaps
from tests.api.compliance_factories import listed_product
from tests.api.factories import Api, row_count
from tests.api.orders_factories import sealed_quote
from tests.api.prepaid_factories import (
    accounts_balance,
    balance,
    funded_buyer,
    key,
    open_account,
    order_from_balance,
    quotable_product,
    quote,
    top_up,
)
from tests.api.settlement_factories import books_balance, payout_of
from tests.api.stripe_fake import FakeStripe, signed_event


async def test_a_prepaid_purchase_is_two_requests_and_delivers_at_once(api: Api) -> None:
    operator = await api.staff("operator")
    product_id = await quotable_product(api, await api.org())
    buyer, account_id = await funded_buyer(api, operator, 50_000)
    assert await balance(api, buyer, account_id) == 50_000

    q = await quote(api, buyer, product_id)
    headers = key("order")
    r = await order_from_balance(api, buyer, q["id"], headers)
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["status"] == "delivered"
    assert order["payment_provider"] == "account"
    assert order["licence_id"]
    credential = order["delivery"]["access_credential"]
    assert credential.startswith("dk_")
    assert await balance(api, buyer, account_id) == 50_000 - q["total_minor"]

    # The credential works against the delivery gateway's usage endpoint.
    used = await api.client.post(
        f"/v1/deliveries/{order['licence_id']}/usage",
        json={"calls": 1},
        headers={"X-Delivery-Credential": credential},
    )
    assert used.status_code == 200, used.text

    # A retry replays the order, never charging twice, and never shows the secret again.
    again = await order_from_balance(api, buyer, q["id"], headers)
    assert again.status_code == 201
    assert again.json()["id"] == order["id"]
    assert "access_credential" not in again.json()["delivery"]
    assert again.json()["delivery"]["credential_prefix"] == order["delivery"]["credential_prefix"]
    assert await balance(api, buyer, account_id) == 50_000 - q["total_minor"]

    statement = (await api.client.get(f"/v1/accounts/{account_id}/statement", headers=buyer.headers)).json()
    assert [(x["kind"], x["amount_minor"], x["balance_after_minor"]) for x in statement["items"]] == [
        ("charge", -q["total_minor"], 50_000 - q["total_minor"]),
        ("top_up", 50_000, 50_000),
    ]
    assert statement["items"][0]["order_id"] == order["id"]

    # Escrow holds the seller's side as for any paid order; acceptance makes it due.
    assert (await payout_of(api, operator, order["id"]))["status"] == "held"
    done = await api.client.post(f"/v1/orders/{order['id']}/completion", headers=buyer.headers)
    assert done.status_code == 200, done.text
    assert (await payout_of(api, operator, order["id"]))["status"] == "due"

    ledger = (await api.client.get(f"/v1/orders/{order['id']}/ledger", headers=operator)).json()
    assert ledger["balanced"]
    await books_balance(api, operator)
    await accounts_balance(api)


async def test_a_short_balance_is_402_and_keeps_nothing(api: Api, app: Any) -> None:
    operator = await api.staff("operator")
    seller = await api.org()
    product = await listed_product(app, seller.participant_id)
    buyer, account_id = await funded_buyer(api, operator, 5_000)
    quote_id = await sealed_quote(app, product["product_id"], buyer.participant_id, total_minor=8_000)
    orders_before, payments_before = await row_count(app, Order), await row_count(app, Payment)

    headers = key("order")
    r = await order_from_balance(api, buyer, quote_id, headers)
    assert r.status_code == 402, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"].endswith("/insufficient-balance")
    assert any(f["field"] == "body.payment_method" for f in problem["errors"]), problem
    assert (await row_count(app, Order), await row_count(app, Payment)) == (orders_before, payments_before)
    assert await balance(api, buyer, account_id) == 5_000

    # Topped up, the same quote (and the same key: nothing was remembered) buys.
    await top_up(api, operator, buyer, account_id, 3_000)
    ok = await order_from_balance(api, buyer, quote_id, headers)
    assert ok.status_code == 201, ok.text
    assert ok.json()["status"] == "delivered"
    assert await balance(api, buyer, account_id) == 0
    await accounts_balance(api)


async def test_prepaid_buying_is_for_buyers_an_operator_enabled(api: Api, app: Any) -> None:
    operator = await api.staff("operator")
    seller = await api.org()
    product = await listed_product(app, seller.participant_id)
    buyer = await api.org(roles=("buyer",))
    quote_id = await sealed_quote(app, product["product_id"], buyer.participant_id)
    r = await order_from_balance(api, buyer, quote_id)
    assert r.status_code == 403, r.text
    assert r.json()["type"].endswith("/prepaid-not-enabled")

    # Only operators open accounts; a buyer sees only its own.
    own = await api.client.post(
        "/v1/accounts",
        json={"participant_id": buyer.participant_id, "currency": "CNY"},
        headers={**buyer.headers, **key()},
    )
    assert own.status_code == 403
    account_id = await open_account(api, operator, buyer)
    twice = await api.client.post(
        "/v1/accounts",
        json={"participant_id": buyer.participant_id, "currency": "CNY"},
        headers={**operator, **key()},
    )
    assert twice.status_code == 409
    other = await api.org(roles=("buyer",))
    assert (await api.client.get(f"/v1/accounts/{account_id}", headers=other.headers)).status_code == 404
    assert (await api.client.get("/v1/accounts", headers=other.headers)).json()["items"] == []
    mine = (await api.client.get("/v1/accounts", headers=buyer.headers)).json()["items"]
    assert [a["id"] for a in mine] == [account_id]
    topped = await api.client.post(
        f"/v1/accounts/{account_id}/top-ups",
        json={"amount_minor": 100, "method": "bank_transfer"},
        headers={**other.headers, **key()},
    )
    assert topped.status_code == 404
    # A transfer is credited once.
    await top_up(api, operator, buyer, account_id, 1_000)
    listed = (await api.client.get(f"/v1/accounts/{account_id}/statement", headers=operator)).json()
    top_up_line = listed["items"][0]
    assert top_up_line["kind"] == "top_up" and top_up_line["order_id"] is None


async def test_a_transfer_is_confirmed_once(api: Api) -> None:
    operator = await api.staff("operator")
    buyer = await api.org(roles=("buyer",))
    account_id = await open_account(api, operator, buyer)
    r = await api.client.post(
        f"/v1/accounts/{account_id}/top-ups",
        json={"amount_minor": 2_500, "method": "bank_transfer"},
        headers={**buyer.headers, **key()},
    )
    assert r.status_code == 201, r.text
    assert r.json()["reference"].startswith("topup_")
    first = await api.client.post(f"/v1/top-ups/{r.json()['id']}/confirmation", headers=operator)
    second = await api.client.post(f"/v1/top-ups/{r.json()['id']}/confirmation", headers=operator)
    assert first.status_code == 200 and second.status_code == 409
    by_buyer = await api.client.post(f"/v1/top-ups/{r.json()['id']}/confirmation", headers=buyer.headers)
    assert by_buyer.status_code == 403
    assert await balance(api, buyer, account_id) == 2_500
    card = await api.client.post(
        f"/v1/accounts/{account_id}/top-ups",
        json={"amount_minor": 2_500, "method": "card"},
        headers={**buyer.headers, **key()},
    )
    assert card.status_code == 422  # the offline provider takes no cards
    assert card.json()["errors"][0]["field"] == "body.method"
    await accounts_balance(api)


async def test_a_refund_goes_back_to_the_balance(api: Api, app: Any) -> None:
    operator = await api.staff("operator")
    seller = await api.org()
    product = await listed_product(app, seller.participant_id)
    buyer, account_id = await funded_buyer(api, operator, 10_000)
    quote_id = await sealed_quote(app, product["product_id"], buyer.participant_id, total_minor=8_000)
    order = (await order_from_balance(api, buyer, quote_id)).json()
    assert order["status"] == "delivered"
    partial = await api.client.post(
        f"/v1/orders/{order['id']}/refund",
        json={"reason": "half the data was missing", "amount_minor": 3_000},
        headers={**operator, **key("refund")},
    )
    assert partial.status_code == 201, partial.text
    assert partial.json()["status"] == "succeeded"
    assert await balance(api, buyer, account_id) == 2_000 + 3_000
    rest = await api.client.post(
        f"/v1/orders/{order['id']}/refund",
        json={"reason": "the seller withdrew the data"},
        headers={**operator, **key("refund")},
    )
    assert rest.status_code == 201, rest.text
    assert await balance(api, buyer, account_id) == 10_000
    after = (await api.client.get(f"/v1/orders/{order['id']}", headers=buyer.headers)).json()
    assert after["status"] == "refunded"
    kinds = [
        (x["kind"], x["amount_minor"])
        for x in (await api.client.get(f"/v1/accounts/{account_id}/statement", headers=buyer.headers)).json()[
            "items"
        ]
    ]
    assert kinds == [("refund", 5_000), ("refund", 3_000), ("charge", -8_000), ("top_up", 10_000)]
    assert (await payout_of(api, operator, order["id"]))["status"] == "cancelled"
    await books_balance(api, operator)
    await accounts_balance(api)


@pytest.fixture
def fake_stripe(app: Any) -> Iterator[FakeStripe]:
    fake = FakeStripe()
    with swaps.payment_provider(app, StripeProvider("sk_test_123", http_client=fake)):
        yield fake


async def stripe_event(api: Api, event_type: str, obj: dict[str, Any]) -> str:
    body, headers = signed_event(event_type, obj, f"evt_{uuid.uuid4().hex}")
    r = await api.client.post("/v1/payments/stripe/webhook", content=body, headers=headers)
    assert r.status_code == 200, r.text
    return str(r.json()["outcome"])


async def test_a_card_top_up_is_credited_when_stripe_reports_it(api: Api, fake_stripe: FakeStripe) -> None:
    operator = await api.staff("operator")
    buyer = await api.org(roles=("buyer",))
    account_id = await open_account(api, operator, buyer)
    r = await api.client.post(
        f"/v1/accounts/{account_id}/top-ups",
        json={"amount_minor": 12_000, "method": "card"},
        headers={**buyer.headers, **key()},
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["client_secret"] and made["reference"].startswith("pi_fake_")
    intents = fake_stripe.created("payment_intents")
    assert len(intents) == 1 and intents[0]["body"]["amount"] == "12000"
    assert await balance(api, buyer, account_id) == 0
    # Confirmed by hand it is not: Stripe reports it.
    assert (
        await api.client.post(f"/v1/top-ups/{made['id']}/confirmation", headers=operator)
    ).status_code == 409

    intent = {"id": made["reference"], "amount": 12_000, "amount_received": 11_000, "currency": "cny"}
    assert (await stripe_event(api, "payment_intent.succeeded", intent)).startswith("refused")
    assert await balance(api, buyer, account_id) == 0
    intent["amount_received"] = 12_000
    assert await stripe_event(api, "payment_intent.succeeded", intent) == "credited"
    assert await stripe_event(api, "payment_intent.succeeded", intent) == "already applied"
    assert await balance(api, buyer, account_id) == 12_000
    await accounts_balance(api)


@pytest.mark.postgres_only
@pytest.mark.parametrize("returning", [False, True], ids=["first-orders", "returning-buyer"])
async def test_concurrent_orders_never_overdraw(api: Api, app: Any, backend: str, returning: bool) -> None:
    """`returning`: the buyer bought before, so each order takes the money in the statement that
    writes it (issue 21) instead of a statement of its own."""
    operator = await api.staff("operator")
    buyer, account_id = await funded_buyer(api, operator, 35_000 if returning else 25_000)
    if returning:
        product = await listed_product(app, (await api.org()).participant_id)
        first = await sealed_quote(app, product["product_id"], buyer.participant_id, total_minor=10_000)
        assert (await order_from_balance(api, buyer, first)).status_code == 201
    quotes = []
    for _ in range(6):  # six sellers: the orders contend on the balance only
        seller = await api.org()
        product = await listed_product(app, seller.participant_id)
        quotes.append(
            await sealed_quote(app, product["product_id"], buyer.participant_id, total_minor=10_000)
        )
    answers = await asyncio.gather(*(order_from_balance(api, buyer, q) for q in quotes))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 201, 402, 402, 402, 402], [a.text for a in answers]
    assert await balance(api, buyer, account_id) == 5_000
    await books_balance(api, operator)
    await accounts_balance(api)
