"""Guided classes bound to the data (issue 20, Art. 65): an operator or the price authority binds
a public resource to its class, never the seller; a product on it is priced under that class's
entry; every binding is audited."""

from __future__ import annotations

from typing import Any

from tests.api.factories import Api
from tests.api.pricing_factories import (
    PER_PAGE,
    PER_REQUEST,
    SCENARIO,
    bind_class,
    public_resource,
    publish_examples,
    quote,
    tariff_product,
)

DEARER = {  # another published class with a higher ceiling (the abuse the issue reports)
    "entry_key": "JL-PUB-DEAR",
    "data_class": "dear_class",
    "unit": "per_request",
    "mode": "ceiling",
    "tiers": [{"first_unit": 1, "unit_price": "150"}],
    "effective_from": "2026-01-01T00:00:00Z",
    "legal_basis": "发改价格〔2025〕65号",
}
FLAT_150 = {"kind": "fixed", "unit_price": "150", "currency": "CNY", "unit": "per_request"}


def product_body(resource_id: str, **over: Any) -> dict[str, Any]:
    return {
        "title": "政府信息",
        "resource_ids": [resource_id],
        "delivery_mode": "api",
        "scenarios": [SCENARIO],
        "price_plan": FLAT_150,
        "licence_template": {
            "permitted_purposes": ["risk_control"],
            "scenarios": [SCENARIO],
            "term_days": 365,
        },
        **over,
    }


async def test_a_seller_cannot_choose_the_class_of_public_data(api: Api, client: Any, app: Any) -> None:
    authority = await publish_examples(api, client)
    assert (await client.post("/v1/price-catalogue", json=DEARER, headers=authority)).status_code == 201
    seller = await api.org()
    resource = await public_resource(api, client, app, seller, data_class=None)
    # The seller may not bind its own resource, to any class.
    own = await client.put(
        f"/v1/resources/{resource['resource_id']}/price-class",
        headers=seller.headers,
        json={"data_class": "dear_class", "reason": "I prefer this one"},
    )
    assert own.status_code == 403
    unbound = await client.post(
        "/v1/products",
        headers=seller.headers,
        json=product_body(resource["resource_id"], price_catalogue_class="dear_class"),
    )
    assert unbound.status_code == 403, unbound.text
    assert unbound.json()["errors"][0]["field"] == "body.price_catalogue_class"

    bound = await bind_class(api, client, resource["resource_id"], PER_REQUEST.data_class)
    assert bound.status_code == 200 and bound.json()["price_catalogue_class"] == PER_REQUEST.data_class
    chosen = await client.post(
        "/v1/products",
        headers=seller.headers,
        json=product_body(resource["resource_id"], price_catalogue_class="dear_class"),
    )
    assert chosen.status_code == 403
    # Under the bound class 150 per request is above the 109号 ceiling (requests 1–10 free).
    priced = await client.post(
        "/v1/products", headers=seller.headers, json=product_body(resource["resource_id"])
    )
    assert priced.status_code == 422, priced.text
    assert priced.json()["entry_key"] == PER_REQUEST.entry_id


async def test_binding_needs_an_entry_in_force_and_is_audited_and_followed_by_products(
    api: Api, client: Any, app: Any
) -> None:
    await publish_examples(api, client)
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    resource = await public_resource(api, client, app, seller)
    product = await tariff_product(api, client, app, seller, resource=resource)
    nothing = await bind_class(api, client, resource["resource_id"], "no_such_class")
    assert nothing.status_code == 422 and nothing.json()["errors"][0]["field"] == "body.data_class"

    # The authority moves the resource to the per-page class: the product's quotes follow it.
    moved = await bind_class(api, client, resource["resource_id"], PER_PAGE.data_class)
    assert moved.status_code == 200, moved.text
    shown = await client.get(f"/v1/products/{product}")
    assert shown.json()["price_catalogue_class"] == PER_PAGE.data_class
    q = await quote(client, buyer, product, 5)
    # The plan counts requests per month; the new class pages per application: no quote until
    # the seller's plan fits the class the data is bound to.
    assert q.status_code == 422, q.text
    assert q.json()["errors"][0]["field"] in ("body.price_plan.unit", "body.price_plan.accumulation")

    auditor = await api.staff("auditor")
    log = await client.get(
        "/v1/audit/entries",
        headers=auditor,
        params={"subject_type": "resource", "subject_id": resource["resource_id"]},
    )
    assert log.status_code == 200, log.text
    bindings = [e for e in log.json()["items"] if e["action"] == "resource.price_class_bound"]
    assert [b["payload"]["data_class"] for b in bindings] == [PER_REQUEST.data_class, PER_PAGE.data_class]
    assert bindings[-1]["payload"]["previous"] == PER_REQUEST.data_class
    assert bindings[-1]["actor"].startswith("user:")
