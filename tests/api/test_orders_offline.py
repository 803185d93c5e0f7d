"""Buying through the API with the offline provider: order, confirm, licence, delivery, refund."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from market.common import clock
from market.orders.models import Order, Quote
from market.payments.models import LedgerEntry
from market.rights.models import RightGrantRow
from tests.api.compliance_factories import listed_product
from tests.api.factories import Api, row_count
from tests.api.orders_factories import sealed_quote


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"order-{uuid.uuid4().hex}"}


async def buy(client: Any, buyer: Any, quote_id: str, headers: dict[str, str] | None = None) -> Any:
    return await client.post(
        "/v1/orders", json={"quote_id": quote_id}, headers={**buyer.headers, **(headers or key())}
    )


async def test_full_trade_offline_payment_licence_delivery_usage_refund(
    api: Api, client: Any, app: Any
) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    product = await listed_product(app, seller.participant_id)
    quote_id = await sealed_quote(app, product["product_id"], buyer.participant_id, total_minor=12_345)

    created = await buy(client, buyer, quote_id)
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["status"] == "pending_payment"
    assert order["commission_minor"] == 617  # 5 % of 123.45 yuan, half-up to the fen
    assert order["seller_proceeds_minor"] == 12_345 - 617

    seen_by_seller = await client.get(f"/v1/orders/{order['id']}", headers=seller.headers)
    assert seen_by_seller.status_code == 200
    stranger = await api.org()
    assert (await client.get(f"/v1/orders/{order['id']}", headers=stranger.headers)).status_code == 404

    not_operator = await client.post(f"/v1/payments/{order['id']}/confirmation", headers=buyer.headers)
    assert not_operator.status_code == 403
    paid = await client.post(f"/v1/payments/{order['id']}/confirmation", headers=operator)
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "delivered"
    licence_id = paid.json()["licence_id"]

    licence = await client.get(f"/v1/licences/{licence_id}", headers=buyer.headers)
    assert licence.status_code == 200 and licence.json()["status"] == "active"
    assert licence.json()["terms"]["purposes"] == ["risk_control"]
    odrl = await client.get(f"/v1/licences/{licence_id}/odrl", headers=seller.headers)
    assert odrl.status_code == 200 and "permission" in odrl.json()
    assert (await client.get(f"/v1/licences/{licence_id}", headers=stranger.headers)).status_code == 404

    delivery = await client.get(f"/v1/deliveries/{licence_id}", headers=buyer.headers)
    assert delivery.status_code == 200, delivery.text
    credential = delivery.json()["access_credential"]
    again = await client.get(f"/v1/deliveries/{licence_id}", headers=buyer.headers)
    assert "access_credential" not in again.json()  # shown once
    used = await client.post(
        f"/v1/deliveries/{licence_id}/usage",
        json={"calls": 3},
        headers={"X-Delivery-Credential": credential},
    )
    assert used.status_code == 200 and used.json()["calls_used"] == 3
    # The gateway retries a report whose answer it lost: the calls count once.
    usage_url, report = f"/v1/deliveries/{licence_id}/usage", {"calls": 2}
    keyed = {"X-Delivery-Credential": credential, "Idempotency-Key": "usage-report-0001"}
    first = await client.post(usage_url, json=report, headers=keyed)
    retry = await client.post(usage_url, json=report, headers=keyed)
    assert first.json()["calls_used"] == retry.json()["calls_used"] == 5
    assert retry.headers["Idempotent-Replayed"] == "true"
    # The replay is only for the credential that made the report.
    forged = {**keyed, "X-Delivery-Credential": credential[:-4] + "AAAA"}
    assert (await client.post(usage_url, json=report, headers=forged)).status_code == 404
    now_used = await client.post(usage_url, json={"calls": 1}, headers={"X-Delivery-Credential": credential})
    assert now_used.json()["calls_used"] == 6

    ledger = (await client.get(f"/v1/orders/{order['id']}/ledger", headers=seller.headers)).json()
    assert ledger["balanced"] is True
    # The seller's proceeds are held in escrow until the buyer accepts or the window passes.
    assert {line["kind"] for line in ledger["lines"]} == {"charge", "commission", "proceeds_held"}

    refund = await client.post(
        f"/v1/orders/{order['id']}/refund",
        headers={**operator, **key()},
        json={"reason": "dataset incomplete", "amount_minor": 5_000},
    )
    assert refund.status_code == 201, refund.text
    rest = await client.post(
        f"/v1/orders/{order['id']}/refund",
        headers={**operator, **key()},
        json={"reason": "dataset incomplete"},
    )
    assert rest.status_code == 201 and rest.json()["amount_minor"] == 7_345
    final = (await client.get(f"/v1/orders/{order['id']}", headers=buyer.headers)).json()
    assert final["status"] == "refunded"
    ledger = (await client.get(f"/v1/orders/{order['id']}/ledger", headers=seller.headers)).json()
    assert ledger["balanced"] is True
    by_account: dict[str, int] = {}
    for line in ledger["lines"]:
        by_account[line["account"]] = by_account.get(line["account"], 0) + line["amount_minor"]
    assert by_account == {
        "cash:clearing": 0,
        "payable:seller:held": 0,
        "payable:buyer:refund": 0,
        "revenue:commission": 0,
    }
    revoked = await client.get(f"/v1/deliveries/{licence_id}", headers=buyer.headers)
    assert revoked.status_code == 410
    over = await client.post(
        f"/v1/orders/{order['id']}/refund",
        headers={**operator, **key()},
        json={"reason": "again"},
    )
    assert over.status_code == 409


async def test_same_idempotency_key_gives_one_order(api: Api, client: Any, app: Any) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    product = await listed_product(app, seller.participant_id)
    quote_id = await sealed_quote(app, product["product_id"], buyer.participant_id)
    k = key()
    first, second = await buy(client, buyer, quote_id, k), await buy(client, buyer, quote_id, k)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert await row_count(app, Order) == 1
    missing_key = await client.post("/v1/orders", json={"quote_id": quote_id}, headers=buyer.headers)
    assert missing_key.status_code == 428


async def test_expired_altered_foreign_and_own_quotes_are_refused(api: Api, client: Any, app: Any) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    product = await listed_product(app, seller.participant_id)
    expired = await sealed_quote(app, product["product_id"], buyer.participant_id, ttl=timedelta(minutes=1))
    clock.advance(timedelta(minutes=2))
    r = await buy(client, buyer, expired)
    assert r.status_code == 409 and r.json()["type"].endswith("/quote-expired")
    altered = await sealed_quote(app, product["product_id"], buyer.participant_id, total_minor=10_000)
    async with app.state.sessionmaker() as s, s.begin():
        await s.execute(update(Quote).where(Quote.id == uuid.UUID(altered)).values(total_minor=1))
    r = await buy(client, buyer, altered)
    assert r.status_code == 409 and r.json()["type"].endswith("/quote-altered")
    other = await api.org(roles=("buyer",))
    foreign = await sealed_quote(app, product["product_id"], other.participant_id)
    assert (await buy(client, buyer, foreign)).status_code == 404
    own = await sealed_quote(app, product["product_id"], seller.participant_id)
    assert (await buy(client, seller, own)).status_code == 422
    assert await row_count(app, Order) == 0
    assert await row_count(app, LedgerEntry) == 0


async def test_unlisted_product_and_revoked_right_stop_the_order(api: Api, client: Any, app: Any) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    suspended = await listed_product(app, seller.participant_id, listing_status="suspended")
    q = await sealed_quote(app, suspended["product_id"], buyer.participant_id)
    r = await buy(client, buyer, q)
    assert r.status_code == 409 and r.json()["type"].endswith("/product-not-listed")
    product = await listed_product(app, seller.participant_id)
    q = await sealed_quote(app, product["product_id"], buyer.participant_id)
    async with app.state.sessionmaker() as s, s.begin():  # the holder revokes upstream
        await s.execute(
            update(RightGrantRow)
            .where(RightGrantRow.id == uuid.UUID(product["holding_grant_id"]))
            .values(revoked_at=clock.now())
        )
    refused = await buy(client, buyer, q)
    assert refused.status_code == 403, refused.text
    assert "LIST-001" in {f["rule_id"] for f in refused.json()["findings"]}
    assert await row_count(app, Order) == 0


async def test_blacklisted_between_quote_and_order(api: Api, client: Any, app: Any) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    product = await listed_product(app, seller.participant_id)
    q = await sealed_quote(app, product["product_id"], buyer.participant_id)
    await client.patch(
        f"/v1/participants/{buyer.participant_id}/credit",
        json={"status": "blacklisted", "reason": "fraud judgment"},
        headers=operator,
    )
    # Blacklisting ended the buyer's sessions and API keys at once (issue 18, finding 5); the
    # trade gate's PART-003 at payment is tested in test_settlement_compliance_at_payment.
    refused = await buy(client, buyer, q)
    assert refused.status_code == 401
    assert await row_count(app, Order) == 0


async def test_usage_is_metered_against_quota_and_foreign_licences_refused(
    api: Api, client: Any, app: Any
) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    product = await listed_product(app, seller.participant_id)
    async with app.state.sessionmaker() as s, s.begin():
        from market.catalog.models import Product

        row = await s.get(Product, uuid.UUID(product["product_id"]))
        assert row is not None
        row.licence_template = {**row.licence_template, "quota": 10}
    q = await sealed_quote(app, product["product_id"], buyer.participant_id)
    order = (await buy(client, buyer, q)).json()
    paid = (await client.post(f"/v1/payments/{order['id']}/confirmation", headers=operator)).json()
    licence_id = paid["licence_id"]
    credential = (await client.get(f"/v1/deliveries/{licence_id}", headers=buyer.headers)).json()[
        "access_credential"
    ]
    ok = await client.post(
        f"/v1/deliveries/{licence_id}/usage",
        json={"calls": 10},
        headers={"X-Delivery-Credential": credential},
    )
    assert ok.status_code == 200
    over = await client.post(
        f"/v1/deliveries/{licence_id}/usage",
        json={"calls": 1},
        headers={"X-Delivery-Credential": credential},
    )
    assert over.status_code == 429 and over.json()["type"].endswith("/quota-exceeded")
    stranger = await api.org()
    foreign = await client.post(
        f"/v1/deliveries/{licence_id}/usage", json={"calls": 1}, headers=stranger.headers
    )
    assert foreign.status_code == 404
    forged = await client.post(
        f"/v1/deliveries/{licence_id}/usage",
        json={"calls": 1},
        headers={"X-Delivery-Credential": "dk_abc_def"},
    )
    assert forged.status_code == 404
    bad = await client.post(
        f"/v1/deliveries/{licence_id}/usage",
        json={"calls": 0},
        headers={"X-Delivery-Credential": credential},
    )
    assert bad.status_code == 422
