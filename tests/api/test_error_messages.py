"""Bad input is explained in the body's own terms: where malformed JSON breaks (line and column,
not a character offset), the field actually sent in a price plan (never the name of a union
branch), and the plan kinds to choose from when `kind` is missing or unknown."""

from __future__ import annotations

from typing import Any

from market.catalog.models import Product
from tests.api.compliance_factories import registered_resource
from tests.api.factories import Api, row_count
from tests.api.test_catalog_products import product_body

KINDS = "fixed, one_off, tiered, metered, subscription"


async def test_malformed_json_names_the_body_and_the_line_and_column(client: Any) -> None:
    text = '{\n  "kind": "organisation",\n  "name": 长春\n}'
    r = await client.post(
        "/v1/participants", content=text.encode(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["type"].endswith("/malformed-json")
    assert r.json()["errors"] == [
        {"field": "body", "reason": "not valid JSON at line 3, column 11: Expecting value"}
    ]


async def plan_refusal(api: Api, client: Any, app: Any, plan: Any) -> list[dict[str, str]]:
    seller = await api.org()
    resource = await registered_resource(app, seller.participant_id)
    r = await client.post(
        "/v1/products", json=product_body(resource["resource_id"], price_plan=plan), headers=seller.headers
    )
    assert r.status_code == 422, r.text
    assert await row_count(app, Product) == 0
    return list(r.json()["errors"])


async def test_a_plan_error_names_the_field_sent_not_the_union_branch(
    api: Api, client: Any, app: Any
) -> None:
    one_off = await plan_refusal(api, client, app, {"kind": "one_off", "price": "-5"})
    assert [e["field"] for e in one_off] == ["body.price_plan.price"]
    assert "greater than or equal to 0" in one_off[0]["reason"]
    fixed = await plan_refusal(api, client, app, {"kind": "fixed", "unit_price": "-1"})
    assert [e["field"] for e in fixed] == ["body.price_plan.unit_price"]
    discount = {"kind": "volume", "min_quantity": 10, "pct": "150"}
    nested = await plan_refusal(
        api, client, app, {"kind": "fixed", "unit_price": "1", "discounts": [discount]}
    )
    assert [e["field"] for e in nested] == ["body.price_plan.discounts.0.pct"]
    tier = {"first_unit": 1, "last_unit": None, "unit_price": "-1"}
    tiered = await plan_refusal(api, client, app, {"kind": "tiered", "style": "graduated", "tiers": [tier]})
    assert tiered[0]["field"] == "body.price_plan.tiers.0.unit_price"
    missing = await plan_refusal(api, client, app, {"kind": "fixed"})
    assert [e["field"] for e in missing] == ["body.price_plan.unit_price"]


async def test_a_plan_without_a_known_kind_lists_the_kinds(api: Api, client: Any, app: Any) -> None:
    missing = await plan_refusal(api, client, app, {"price": "5"})
    assert missing == [
        {"field": "body.price_plan.kind", "reason": f"price_plan.kind is required: one of {KINDS}"}
    ]
    unknown = await plan_refusal(api, client, app, {"kind": "auction", "price": "5"})
    assert unknown == [
        {"field": "body.price_plan.kind", "reason": f"price_plan.kind 'auction' is not known: one of {KINDS}"}
    ]
    bad_discount = await plan_refusal(
        api, client, app, {"kind": "fixed", "unit_price": "1", "discounts": [{"pct": "5"}]}
    )
    assert bad_discount == [
        {
            "field": "body.price_plan.discounts.0.kind",
            "reason": "price_plan.discounts.0.kind is required: one of "
            "new_customer, volume, random_allocation",
        }
    ]
