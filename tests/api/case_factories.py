"""Cases waiting for an operator, made through the real API wherever one exists: a listing the
rules parked, an order parked for review, an open dispute, an escalated data-subject request
and an organisation awaiting verification."""

from __future__ import annotations

from typing import Any

from tests.api.compliance_factories import listed_product, operating_right, registered_resource
from tests.api.factories import Api, Party
from tests.api.orders_factories import sealed_quote
from tests.api.privacy_factories import person
from tests.api.settlement_factories import key, sale
from tests.api.test_catalog_products import product_body


async def parked_listing(api: Api, seller: Party, title: str = "长春企业经营指数") -> str:
    """A product on important data: the listing rules park it for an operator (needs_review)."""
    resource = await registered_resource(api.app, seller.participant_id, grade="important")
    made = await api.client.post(
        "/v1/products", json=product_body(resource["resource_id"], title=title), headers=seller.headers
    )
    assert made.status_code == 201, made.text
    product_id = str(made.json()["id"])
    await operating_right(api.app, seller.participant_id, resource, product_id)
    parked = await api.client.post(f"/v1/products/{product_id}/listing", headers=seller.headers)
    assert parked.json()["product"]["listing_status"] == "needs_review", parked.text
    return product_id


async def parked_order(api: Api) -> dict[str, Any]:
    """An order on important data the trade rules parked for review."""
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    product = await listed_product(api.app, seller.participant_id, grade="important")
    quote = await sealed_quote(api.app, product["product_id"], buyer.participant_id)
    placed = await api.client.post(
        "/v1/orders", json={"quote_id": quote}, headers={**buyer.headers, **key("order")}
    )
    assert placed.json()["status"] == "needs_review", placed.text
    body: dict[str, Any] = placed.json()
    return body


async def open_dispute(api: Api, total_minor: int = 36_500) -> dict[str, Any]:
    """A buyer disputes a paid, delivered order (its payout frozen)."""
    _seller, buyer, _operator, _product, order = await sale(api, total_minor=total_minor)
    opened = await api.client.post(
        "/v1/disputes",
        json={
            "order_id": order["id"],
            "reason": "not_as_described",
            "description": "half the fields are empty",
        },
        headers={**buyer.headers, **key("dispute")},
    )
    assert opened.status_code == 201, opened.text
    body: dict[str, Any] = opened.json()
    return body


async def escalated_request(api: Api, seller: Party) -> str:
    """A person's access request the seller refused and the person took to the exchange."""
    me = await person(api)
    filed = await api.client.post(
        "/v1/subject-requests",
        json={
            "kind": "access",
            "seller_id": seller.participant_id,
            "details": "what do you hold about me",
            "subject_identifiers": "王五, mobile 13800000000",
        },
        headers=me.headers,
    )
    assert filed.status_code == 201, filed.text
    url = f"/v1/subject-requests/{filed.json()['id']}"
    refused = await api.client.post(
        f"{url}/answer",
        json={"outcome": "refused", "response": "we hold nothing", "reasons": ["no such person"]},
        headers=seller.headers,
    )
    assert refused.status_code == 200, refused.text
    escalated = await api.client.post(
        f"{url}/escalation", json={"reason": "they bought my records"}, headers=me.headers
    )
    assert escalated.status_code == 200, escalated.text
    return str(filed.json()["id"])
