"""A purchase's quote and order check the caller's bearer token with their first read, not in a
round trip of their own (issue 21): a token that is no longer current is still refused (401)
before anything is written, and before any other refusal is answered, on both databases."""

from __future__ import annotations

import uuid
from typing import Any

from market.audit.models import AuditEntry
from market.compliance.models import ComplianceDecisionRow
from market.orders.models import Order, Quote
from tests.api.factories import Api, Party, row_count
from tests.api.prepaid_factories import (
    balance,
    funded_buyer,
    key,
    order_from_balance,
    quotable_product,
    quote,
    quote_request,
)

TABLES = (Quote, Order, ComplianceDecisionRow, AuditEntry)


async def _counts(api: Api) -> list[int]:
    return [await row_count(api.app, table) for table in TABLES]


def _ended(r: Any) -> None:
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "sign in again" in r.json()["detail"]


async def _quoted_buyer(api: Api) -> tuple[dict[str, str], str, Party, str, dict[str, Any]]:
    """An operator, a product, a buyer with 1,000 yuan in its account, and its quote."""
    operator = await api.staff("operator")
    product_id = await quotable_product(api, await api.org(roles=("seller",)))
    buyer, account_id = await funded_buyer(api, operator, 100_000)
    return operator, product_id, buyer, account_id, await quote(api, buyer, product_id)


async def test_a_signed_out_buyer_can_neither_quote_nor_order_and_nothing_is_kept(api: Api) -> None:
    _, product_id, buyer, account_id, quoted = await _quoted_buyer(api)
    assert (await api.client.post("/v1/auth/logout", headers=buyer.headers)).status_code == 204
    before = await _counts(api)

    _ended(await api.client.post("/v1/quotes", headers=buyer.headers, json=quote_request(product_id)))
    _ended(await order_from_balance(api, buyer, quoted["id"]))

    assert await _counts(api) == before
    buyer.headers = await api.login(buyer.email)  # signed in again: the balance is untouched
    assert await balance(api, buyer, account_id) == 100_000
    ordered = await order_from_balance(api, buyer, quoted["id"])
    assert ordered.status_code == 201 and ordered.json()["status"] == "delivered", ordered.text


async def test_an_ended_session_is_told_so_before_any_other_refusal(api: Api) -> None:
    seller = await api.org(roles=("seller",))
    product_id = await quotable_product(api, seller)
    buyer = await api.org(roles=("buyer",))
    quoted = await quote(api, buyer, product_id)
    seller_only = await api.org(roles=("seller",))
    for party in (buyer, seller_only):
        assert (await api.client.post("/v1/auth/logout", headers=party.headers)).status_code == 204
    before = await _counts(api)

    # Each of these is refused otherwise (422, 404, 428, 404, 403 below): signed out, it is a 401.
    _ended(await api.client.post("/v1/quotes", headers=buyer.headers, json={"product_id": "not a uuid"}))
    missing = quote_request(str(uuid.uuid4()))
    _ended(await api.client.post("/v1/quotes", headers=buyer.headers, json=missing))
    _ended(await api.client.post("/v1/orders", headers=buyer.headers, json={"quote_id": quoted["id"]}))
    _ended(await api.client.post("/v1/orders", headers=buyer.headers, json={"quote_id": str(uuid.uuid4())}))
    _ended(await api.client.post("/v1/quotes", headers=seller_only.headers, json=quote_request(product_id)))

    assert await _counts(api) == before
    buyer.headers = await api.login(buyer.email)
    seller_only.headers = await api.login(seller_only.email)
    invalid = await api.client.post("/v1/quotes", headers=buyer.headers, json={"product_id": "not a uuid"})
    assert invalid.status_code == 422
    assert (await api.client.post("/v1/quotes", headers=buyer.headers, json=missing)).status_code == 404
    unkeyed = await api.client.post("/v1/orders", headers=buyer.headers, json={"quote_id": quoted["id"]})
    assert unkeyed.status_code == 428
    no_quote = await api.client.post(
        "/v1/orders", headers={**buyer.headers, **key()}, json={"quote_id": str(uuid.uuid4())}
    )
    assert no_quote.status_code == 404
    not_a_buyer = await api.client.post(
        "/v1/quotes", headers=seller_only.headers, json=quote_request(product_id)
    )
    assert not_a_buyer.status_code == 403


async def test_a_blacklisted_buyers_token_buys_nothing(api: Api) -> None:
    operator, product_id, buyer, _, quoted = await _quoted_buyer(api)
    listed = await api.client.patch(
        f"/v1/participants/{buyer.participant_id}/credit",
        json={"status": "blacklisted", "reason": "court judgment for fraud"},
        headers=operator,
    )
    assert listed.status_code == 200, listed.text
    before = await _counts(api)

    _ended(await api.client.post("/v1/quotes", headers=buyer.headers, json=quote_request(product_id)))
    _ended(await order_from_balance(api, buyer, quoted["id"]))
    assert await _counts(api) == before


async def test_a_signed_out_buyer_is_not_shown_an_answered_request_again(api: Api) -> None:
    _, product_id, buyer, _, quoted = await _quoted_buyer(api)
    again = key("order")
    ordered = await order_from_balance(api, buyer, quoted["id"], again)
    assert ordered.status_code == 201, ordered.text
    keyed_quote = {**buyer.headers, **key("quote")}
    assert (
        await api.client.post("/v1/quotes", headers=keyed_quote, json=quote_request(product_id))
    ).status_code == 201
    replayed = await order_from_balance(api, buyer, quoted["id"], again)
    assert replayed.status_code == 201 and replayed.headers.get("Idempotent-Replayed") == "true"
    assert (await api.client.post("/v1/auth/logout", headers=buyer.headers)).status_code == 204

    _ended(await order_from_balance(api, buyer, quoted["id"], again))
    _ended(await api.client.post("/v1/quotes", headers=keyed_quote, json=quote_request(product_id)))
