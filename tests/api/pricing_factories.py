"""Paid public data under a guided tariff, through the API: the price authority publishes the
shipped 国办函〔2020〕109号 tariffs, an authorised operator lists a product charging one, a buyer
quotes, orders and pays; and a business clock set to a given Beijing date."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from market.catalog.price_catalogue import example_entries
from market.common import clock
from pricing import BEIJING, GOV_INFO_FEE_PER_PAGE, GOV_INFO_FEE_PER_REQUEST, GuidedPriceEntry, tariff_plan
from tests.api.compliance_factories import operating_right, registered_resource
from tests.api.factories import Api, Party

PER_REQUEST = GOV_INFO_FEE_PER_REQUEST
PER_PAGE = GOV_INFO_FEE_PER_PAGE
PURPOSES = ["risk_control", "commercial_analytics", "public_welfare"]
SCENARIO = "credit risk scoring"


def at_beijing(year: int, month: int, day: int, hour: int = 12) -> None:
    """Move the business clock forward to this Beijing wall time (it only moves forward)."""
    target = datetime(year, month, day, hour, tzinfo=BEIJING)
    assert target > clock.now(), "the business clock only moves forward"
    clock.advance(target - clock.now())


def next_month_day(day: int, months: int = 1) -> tuple[int, int, int]:
    """(year, month, day) `months` Beijing calendar months after now's."""
    local = clock.now().astimezone(BEIJING)
    index = local.year * 12 + local.month - 1 + months
    return index // 12, index % 12 + 1, day


async def publish_examples(api: Api, client: Any) -> dict[str, str]:
    """The price authority publishes the shipped tariffs; returns its headers."""
    authority = await api.staff("price_authority")
    for body in example_entries():
        r = await client.post("/v1/price-catalogue", json=body.model_dump(mode="json"), headers=authority)
        assert r.status_code == 201, r.text
    return authority


async def bind_class(api: Api, client: Any, resource_id: str, data_class: str) -> Any:
    """The price authority binds the resource to a guided class."""
    authority = await api.staff("price_authority")
    return await client.put(
        f"/v1/resources/{resource_id}/price-class",
        headers=authority,
        json={"data_class": data_class, "reason": "mandate 吉政数授〔2026〕1号"},
    )


async def public_resource(
    api: Api, client: Any, app: Any, seller: Party, data_class: str | None = PER_REQUEST.data_class
) -> dict[str, str]:
    """A public resource the seller operates under a valid mandate (发改价格〔2025〕65号), bound
    to `data_class` by the price authority."""
    operator = await api.staff("operator")
    resource = await registered_resource(
        app, seller.participant_id, category="public", open_class="unconditional"
    )
    mandate = await client.post(
        "/v1/compliance/mandates",
        headers=operator,
        json={
            "resource_id": resource["resource_id"],
            "operator_id": seller.participant_id,
            "purposes": PURPOSES,
            "conditions": "desensitised only",
            "revenue_share": "0.30",
            "document": "吉政数授〔2026〕1号",
            "valid_from": (clock.now() - timedelta(days=1)).isoformat(),
            "valid_to": (clock.now() + timedelta(days=800)).isoformat(),
        },
    )
    assert mandate.status_code == 201, mandate.text
    if data_class is not None:
        bound = await bind_class(api, client, resource["resource_id"], data_class)
        assert bound.status_code == 200, bound.text
    return resource


async def tariff_product(
    api: Api,
    client: Any,
    app: Any,
    seller: Party,
    entry: GuidedPriceEntry = PER_REQUEST,
    *,
    resource: dict[str, str] | None = None,
    plan: dict[str, Any] | None = None,
    seller_names_class: str | None = None,
) -> str:
    """A listed product on a public resource bound to `entry`'s class, charging its tariff."""
    resource = resource or await public_resource(api, client, app, seller, entry.data_class)
    body: dict[str, Any] = {
        "title": "政府信息公开申请处理",
        "resource_ids": [resource["resource_id"]],
        "delivery_mode": "api",
        "scenarios": [SCENARIO],
        "price_plan": plan or tariff_plan(entry).model_dump(mode="json", exclude={"plan_version"}),
        "licence_template": {"permitted_purposes": PURPOSES, "scenarios": [SCENARIO], "term_days": 365},
    }
    if seller_names_class is not None:
        body["price_catalogue_class"] = seller_names_class
    r = await client.post("/v1/products", json=body, headers=seller.headers)
    assert r.status_code == 201, r.text
    product_id = str(r.json()["id"])
    await operating_right(app, seller.participant_id, resource, product_id, purposes=tuple(PURPOSES))
    listing = await client.post(f"/v1/products/{product_id}/listing", headers=seller.headers)
    assert listing.status_code == 200, listing.text
    status = listing.json()["product"]["listing_status"]
    if status == "needs_review":
        operator = await api.staff("operator")
        decided = await client.post(
            f"/v1/listings/{product_id}/decision", headers=operator, json={"action": "list", "reason": "ok"}
        )
        assert decided.status_code == 200, decided.text
        status = decided.json()["product"]["listing_status"]
    assert status == "listed", listing.text
    return product_id


async def quote(
    client: Any, buyer: Party, product_id: str, quantity: int, purpose: str = "risk_control", **extra: Any
) -> Any:
    return await client.post(
        "/v1/quotes",
        headers=buyer.headers,
        json={
            "product_id": product_id,
            "quantity": quantity,
            "purpose": purpose,
            "scenario": SCENARIO,
            **extra,
        },
    )


async def order(client: Any, buyer: Party, quote_id: str) -> Any:
    return await client.post(
        "/v1/orders",
        json={"quote_id": quote_id},
        headers={**buyer.headers, "Idempotency-Key": uuid.uuid4().hex},
    )


async def buy(
    client: Any,
    buyer: Party,
    operator: dict[str, str],
    product_id: str,
    quantity: int,
    purpose: str = "risk_control",
) -> dict[str, Any]:
    """Quote, order and pay (an operator confirms the transfer): the paid order and its quote."""
    q = await quote(client, buyer, product_id, quantity, purpose)
    assert q.status_code == 201, q.text
    if q.json()["total_minor"] == 0:
        o = await order(client, buyer, q.json()["id"])
        assert o.status_code == 201, o.text
        return {"quote": q.json(), "order": o.json()}
    o = await order(client, buyer, q.json()["id"])
    assert o.status_code == 201, o.text
    paid = await client.post(f"/v1/payments/{o.json()['id']}/confirmation", headers=operator)
    assert paid.status_code == 200, paid.text
    return {"quote": q.json(), "order": paid.json()}
