"""The trade rules run again when the money arrives: a buyer blacklisted, or a seller's chain
broken, since the order means no licence, a refund through the provider, and an order refused
with the decision's reasons. Each scenario ends with the books balanced."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update

from market.catalog.models import Product
from market.payments.models import Refund
from tests.api.compliance_factories import listed_product
from tests.api.factories import Api
from tests.api.settlement_factories import books_balance, order, payout_of

TOTAL = 36_500


async def test_a_buyer_blacklisted_before_payment_gets_no_licence_and_its_money_back(
    api: Api, client: Any, app: Any
) -> None:
    seller, buyer, other = await api.org(), await api.org(roles=("buyer",)), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    product = await listed_product(app, seller.participant_id)
    async with app.state.sessionmaker() as s, s.begin():  # one exclusive licence: is it freed?
        await s.execute(
            update(Product)
            .where(Product.id == uuid.UUID(product["product_id"]))
            .values(exclusivity="exclusive")
        )
    placed = await order(api, buyer, product["product_id"], total_minor=TOTAL)
    assert placed.status_code == 201, placed.text
    blacklisted = await client.patch(
        f"/v1/participants/{buyer.participant_id}/credit",
        json={"status": "blacklisted", "reason": "court judgment for fraud"},
        headers=operator,
    )
    assert blacklisted.status_code == 200, blacklisted.text

    confirmed = await client.post(f"/v1/payments/{placed.json()['id']}/confirmation", headers=operator)
    assert confirmed.status_code == 200, confirmed.text
    refused = confirmed.json()
    assert refused["status"] == "refused" and refused["licence_id"] is None
    assert "PART-003" in refused["status_reason"]
    book = (await client.get(f"/v1/orders/{refused['id']}/ledger", headers=operator)).json()
    assert book["balanced"]
    assert sum(x["amount_minor"] for x in book["lines"] if x["kind"] == "refund") == -TOTAL
    async with app.state.sessionmaker() as s:
        [refund] = (await s.execute(select(Refund))).scalars()
    assert (refund.status, refund.source, refund.amount_minor) == ("succeeded", "compliance", TOTAL)
    assert (await payout_of(api, operator, refused["id"]))["status"] == "cancelled"
    history = (await client.get(f"/v1/audit/trades/{refused['id']}", headers=operator)).json()
    actions = [e["action"] for e in history]
    assert "order.refused" in actions and "refund.succeeded" in actions and "licence.issued" not in actions
    # The exclusive licence it held is free for another buyer.
    assert (await order(api, other, product["product_id"])).status_code == 201
    totals = await books_balance(api, operator)
    assert totals[seller.participant_id]["refunded_minor"] == TOTAL
    assert totals[seller.participant_id]["commission_minor"] == 0


async def test_a_seller_whose_operating_right_was_revoked_before_payment_cannot_be_paid(
    api: Api, client: Any, app: Any
) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    product = await listed_product(app, seller.participant_id)
    placed = await order(api, buyer, product["product_id"], total_minor=TOTAL)
    assert placed.status_code == 201, placed.text
    tree = (await client.get(f"/v1/resources/{product['resource_id']}/rights", headers=seller.headers)).json()
    operating = next(
        child["grant"]["id"]
        for root in tree["roots"]
        for child in root["children"]
        if child["grant"]["kind"] == "operating"
    )
    # Nothing is paid yet, so the seller's own revocation needs no refund.
    revoked = await client.post(
        f"/v1/grants/{operating}/revocation",
        json={"reason": "licence agreement ended"},
        headers=seller.headers,
    )
    assert revoked.status_code == 200 and revoked.json()["licences"] == [], revoked.text

    confirmed = await client.post(f"/v1/payments/{placed.json()['id']}/confirmation", headers=operator)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "refused" and confirmed.json()["licence_id"] is None
    assert "LIST-001" in confirmed.json()["status_reason"]
    await books_balance(api, operator)
