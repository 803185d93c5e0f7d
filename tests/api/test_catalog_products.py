"""Products, listing lifecycle, guided pricing at save time, public catalogue and quotes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from market.common import clock
from tests.api.compliance_factories import operating_right, registered_resource
from tests.api.factories import Api

TEMPLATE = {
    "permitted_purposes": ["risk_control", "commercial_analytics"],
    "scenarios": ["credit risk scoring"],
    "term_days": 365,
}


def product_body(resource_id: str, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "长春企业经营指数",
        "description": "Monthly operating index of SMEs in Changchun",
        "resource_ids": [resource_id],
        "delivery_mode": "api",
        "scenarios": ["credit risk scoring"],
        "price_plan": {"kind": "fixed", "unit_price": "2.00", "currency": "CNY"},
        "licence_template": TEMPLATE,
    }
    body.update(over)
    return body


async def listed(api: Api, client: Any, app: Any, seller: Any, **over: Any) -> dict[str, Any]:
    resource = await registered_resource(app, seller.participant_id, **over.pop("resource", {}))
    r = await client.post(
        "/v1/products", json=product_body(resource["resource_id"], **over), headers=seller.headers
    )
    assert r.status_code == 201, r.text
    product = r.json()
    await operating_right(app, seller.participant_id, resource, product["id"])
    sub = await client.post(f"/v1/products/{product['id']}/listing", headers=seller.headers)
    assert sub.status_code == 200, sub.text
    return {**sub.json()["product"], "resource": resource}


GUIDED = {
    "entry_key": "JL-PUB-ENTERPRISE-REG",
    "data_class": "enterprise_registry",
    "unit": "per_call",
    "mode": "band",
    "band_up_pct": "10",
    "band_down_pct": "20",
    "tiers": [
        {"first_unit": 1, "last_unit": 100, "unit_price": "0"},
        {"first_unit": 101, "unit_price": "1.00"},
    ],
    "effective_from": "2026-01-01T00:00:00Z",
    "legal_basis": "发改价格〔2025〕65号",
}


async def test_price_authority_publishes_supersedes_and_withdraws(api: Api, client: Any) -> None:
    authority = await api.staff("price_authority")
    seller = await api.org()
    assert (await client.post("/v1/price-catalogue", json=GUIDED, headers=seller.headers)).status_code == 403
    r = await client.post("/v1/price-catalogue", json=GUIDED, headers=authority)
    assert r.status_code == 201, r.text
    assert (await client.post("/v1/price-catalogue", json=GUIDED, headers=authority)).status_code == 409
    v2 = await client.post(
        "/v1/price-catalogue/JL-PUB-ENTERPRISE-REG/versions",
        headers=authority,
        json={**GUIDED, "effective_from": "2026-09-01T00:00:00Z"},
    )
    assert v2.status_code == 201 and v2.json()["version"] == 2
    history = (await client.get("/v1/price-catalogue/JL-PUB-ENTERPRISE-REG")).json()
    assert [(e["version"], e["status"]) for e in history] == [(1, "superseded"), (2, "in_force")]
    assert history[0]["effective_to"].startswith("2026-09-01")
    in_force = (await client.get("/v1/price-catalogue")).json()
    assert [e["version"] for e in in_force] == [2]
    gone = await client.post(
        "/v1/price-catalogue/JL-PUB-ENTERPRISE-REG/withdrawal",
        headers=authority,
        json={"reason": "replaced by provincial tariff"},
    )
    assert gone.status_code == 200
    assert (await client.get("/v1/price-catalogue")).json() == []


async def test_bad_price_entries_are_422_and_nothing_is_stored(api: Api, client: Any) -> None:
    authority = await api.staff("price_authority")
    bad = [
        {
            **GUIDED,
            "tiers": [
                {"first_unit": 1, "last_unit": 10, "unit_price": "1"},
                {"first_unit": 5, "unit_price": "1"},
            ],
        },
        {**GUIDED, "tiers": [{"first_unit": 1, "unit_price": "-1"}]},
        {**GUIDED, "tiers": [{"first_unit": 1, "unit_price": 1.5}]},
        {**GUIDED, "unit": "per_parsec"},
        {**GUIDED, "currency": "XXX"},
        {**GUIDED, "band_down_pct": "-5"},
    ]
    for body in bad:
        r = await client.post("/v1/price-catalogue", json=body, headers=authority)
        assert r.status_code == 422, body
        assert r.json()["errors"], r.json()
    assert (await client.get("/v1/price-catalogue?history=true")).json() == []


async def test_public_data_plan_outside_its_band_is_refused_naming_the_entry(
    api: Api, client: Any, app: Any
) -> None:
    authority = await api.staff("price_authority")
    await client.post("/v1/price-catalogue", json=GUIDED, headers=authority)
    seller = await api.org()
    resource = await registered_resource(
        app, seller.participant_id, category="public", open_class="unconditional"
    )
    unbound = await client.post(
        "/v1/products",
        headers=seller.headers,
        json=product_body(
            resource["resource_id"], price_plan={"kind": "fixed", "unit_price": "1", "currency": "CNY"}
        ),
    )
    assert unbound.status_code == 422 and unbound.json()["errors"][0]["field"] == "body.resource_ids.0"
    bound = await client.put(
        f"/v1/resources/{resource['resource_id']}/price-class",
        headers=authority,
        json={"data_class": "enterprise_registry", "reason": "mandate 吉政数授〔2026〕1号"},
    )
    assert bound.status_code == 200 and bound.json()["price_catalogue_class"] == "enterprise_registry"
    plan = {
        "kind": "tiered",
        "style": "graduated",
        "currency": "CNY",
        "tiers": [
            {"first_unit": 1, "last_unit": 100, "unit_price": "0"},
            {"first_unit": 101, "unit_price": "1.50"},
        ],
    }
    r = await client.post(
        "/v1/products",
        headers=seller.headers,
        json=product_body(
            resource["resource_id"], price_plan=plan, price_catalogue_class="enterprise_registry"
        ),
    )
    assert r.status_code == 422
    assert r.json()["entry_key"] == "JL-PUB-ENTERPRISE-REG"
    assert "1.10" in r.json()["detail"]  # the band top at 101 units
    other_class = await client.post(
        "/v1/products",
        headers=seller.headers,
        json=product_body(resource["resource_id"], price_plan=plan, price_catalogue_class="cheap_class"),
    )
    assert other_class.status_code == 403  # the class is bound to the data, not the seller's choice
    ok_plan = {**plan, "tiers": [plan["tiers"][0], {"first_unit": 101, "unit_price": "1.05"}]}
    ok = await client.post(
        "/v1/products",
        headers=seller.headers,
        json=product_body(
            resource["resource_id"], price_plan=ok_plan, price_catalogue_class="enterprise_registry"
        ),
    )
    assert ok.status_code == 201, ok.text


async def test_listing_lifecycle_and_forbidden_transitions(api: Api, client: Any, app: Any) -> None:
    seller = await api.org()
    operator = await api.staff("operator")
    product = await listed(api, client, app, seller)
    assert product["listing_status"] == "listed"
    decide = f"/v1/listings/{product['id']}/decision"
    assert (
        await client.post(decide, headers=seller.headers, json={"action": "suspend", "reason": "x" * 5})
    ).status_code == 403
    bad = await client.post(decide, headers=operator, json={"action": "reject", "reason": "too late"})
    assert bad.status_code == 409
    assert (
        await client.post(decide, headers=operator, json={"action": "suspend", "reason": "complaint"})
    ).json()["product"]["listing_status"] == "suspended"
    assert (
        await client.post(decide, headers=operator, json={"action": "list", "reason": "cleared"})
    ).status_code == 200
    delisted = await client.post(decide, headers=operator, json={"action": "delist", "reason": "expired"})
    assert delisted.json()["product"]["listing_status"] == "delisted"
    assert (
        await client.post(decide, headers=operator, json={"action": "list", "reason": "again"})
    ).status_code == 409


async def test_important_data_waits_for_review_and_no_operating_right_is_rejected(
    api: Api, client: Any, app: Any
) -> None:
    seller = await api.org()
    operator = await api.staff("operator")
    resource = await registered_resource(app, seller.participant_id, grade="important")
    product = (
        await client.post("/v1/products", json=product_body(resource["resource_id"]), headers=seller.headers)
    ).json()
    rejected = await client.post(f"/v1/products/{product['id']}/listing", headers=seller.headers)
    assert rejected.json()["product"]["listing_status"] == "rejected"  # no operating right yet
    assert "LIST-001" in {f["rule_id"] for f in rejected.json()["findings"]}
    await operating_right(app, seller.participant_id, resource, product["id"])
    parked = await client.post(f"/v1/products/{product['id']}/listing", headers=seller.headers)
    assert parked.json()["product"]["listing_status"] == "needs_review"
    reviews = (await client.get("/v1/compliance/reviews", headers=operator)).json()["items"]
    assert [r["subject_id"] for r in reviews] == [product["id"]]
    ok = await client.post(
        f"/v1/listings/{product['id']}/decision",
        headers=operator,
        json={"action": "list", "reason": "domestic use only, reviewed"},
    )
    assert ok.json()["product"]["listing_status"] == "listed"
    assert (await client.get("/v1/compliance/reviews", headers=operator)).json()["items"] == []


async def test_processor_without_resource_right_cannot_create_product(
    api: Api, client: Any, app: Any
) -> None:
    holder, stranger = await api.org(), await api.org()
    resource = await registered_resource(app, holder.participant_id)
    r = await client.post(
        "/v1/products", json=product_body(resource["resource_id"]), headers=stranger.headers
    )
    assert r.status_code == 403
    assert r.json()["errors"][0]["field"] == "body.resource_ids.0"


async def test_catalogue_search_filters_pagination_and_dcat(api: Api, client: Any, app: Any) -> None:
    seller = await api.org()
    await listed(
        api,
        client,
        app,
        seller,
        title="Traffic flow API",
        description="road sensors",
        delivery_mode="api",
    )
    await listed(
        api,
        client,
        app,
        seller,
        title="企业信用报告",
        description="credit reports",
        delivery_mode="file",
        price_plan={"kind": "one_off", "price": "5000", "currency": "CNY"},
    )
    for n in range(3):
        await listed(api, client, app, seller, title=f"Weather archive {n}")
    unlisted = await registered_resource(app, seller.participant_id)
    await client.post(
        "/v1/products",
        json=product_body(unlisted["resource_id"], title="Hidden draft"),
        headers=seller.headers,
    )
    everything = (await client.get("/v1/catalog?limit=50")).json()["items"]
    assert len(everything) == 5 and "Hidden draft" not in {p["title"] for p in everything}
    assert [p["title"] for p in (await client.get("/v1/catalog?q=traffic")).json()["items"]] == [
        "Traffic flow API"
    ]
    assert [p["title"] for p in (await client.get("/v1/catalog?q=信用")).json()["items"]] == ["企业信用报告"]
    for q in ("TRAFFIC", "flow API", "sensors", "信", "企业信用"):  # any case, length, script
        assert [p["title"] for p in (await client.get(f"/v1/catalog?q={q}")).json()["items"]] != [], q
    assert (await client.get("/v1/catalog?q=%25")).json()["items"] == []  # a literal %, not a wildcard
    files = (await client.get("/v1/catalog?delivery_mode=file")).json()["items"]
    assert [p["title"] for p in files] == ["企业信用报告"]
    pricey = (await client.get("/v1/catalog?min_price=100000")).json()["items"]
    assert [p["title"] for p in pricey] == ["企业信用报告"]
    page1 = (await client.get("/v1/catalog?limit=2")).json()
    page2 = (await client.get(f"/v1/catalog?limit=2&cursor={page1['next_cursor']}")).json()
    page3 = (await client.get(f"/v1/catalog?limit=2&cursor={page2['next_cursor']}")).json()
    seen = [p["id"] for p in page1["items"] + page2["items"] + page3["items"]]
    assert len(seen) == len(set(seen)) == 5 and page3["next_cursor"] is None
    assert (await client.get("/v1/catalog?cursor=garbage")).status_code == 422
    assert (await client.get("/v1/catalog?grade=secret")).status_code == 422
    dcat = await client.get("/v1/catalog.jsonld")
    assert dcat.headers["content-type"].startswith("application/ld+json")
    [catalogue] = [n for n in dcat.json()["@graph"] if n.get("@type") == "dcat:Catalog"]
    assert len(catalogue["dcat:dataset"]) == 5


async def test_quote_is_itemised_sealed_and_refused_when_it_should_be(
    api: Api, client: Any, app: Any
) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    plan = {
        "kind": "tiered",
        "style": "graduated",
        "currency": "CNY",
        "tiers": [
            {"first_unit": 1, "last_unit": 100, "unit_price": "1.00"},
            {"first_unit": 101, "unit_price": "0.50"},
        ],
        "discounts": [{"kind": "volume", "min_quantity": 1000, "pct": "10"}],
    }
    product = await listed(api, client, app, seller, price_plan=plan)
    body = {
        "product_id": product["id"],
        "quantity": 150,
        "purpose": "risk_control",
        "scenario": "credit risk scoring",
    }
    q = await client.post("/v1/quotes", json=body, headers=buyer.headers)
    assert q.status_code == 201, q.text
    quote = q.json()
    assert quote["total_minor"] == 100 * 100 + 50 * 50
    assert [line["quantity"] for line in quote["lines"]] == [100, 50]
    assert len(quote["digest"]) == 64 and quote["expires_at"] > quote["issued_at"]
    big = (await client.post("/v1/quotes", json={**body, "quantity": 1000}, headers=buyer.headers)).json()
    assert big["lines"][-1]["code"] == "volume" and "Art. 70" in big["lines"][-1]["reason"]
    for bad, status in [
        ({**body, "quantity": 0}, 422),
        ({**body, "quantity": -3}, 422),
        ({**body, "purpose": "spying"}, 422),
        ({**body, "scenario": "cold calls"}, 422),
        ({**body, "quantity": 1.5}, 422),
    ]:
        assert (await client.post("/v1/quotes", json=bad, headers=buyer.headers)).status_code == status, bad
    own = await client.post("/v1/quotes", json=body, headers=seller.headers)
    assert own.status_code == 422
    # Art. 70: a buyer cannot declare itself the winner of a random allocation.
    claimed = await client.post("/v1/quotes", json={**body, "lottery_won": True}, headers=buyer.headers)
    assert claimed.status_code == 422 and "body.lottery_won" in claimed.text
    operator = await api.staff("operator")
    await client.post(
        f"/v1/listings/{product['id']}/decision",
        headers=operator,
        json={"action": "suspend", "reason": "under investigation"},
    )
    suspended = await client.post("/v1/quotes", json=body, headers=buyer.headers)
    assert suspended.status_code in (404, 409)


async def test_quote_then_order_then_expiry(api: Api, client: Any, app: Any) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    product = await listed(api, client, app, seller)
    body = {
        "product_id": product["id"],
        "quantity": 10,
        "purpose": "risk_control",
        "scenario": "credit risk scoring",
    }
    quote = (await client.post("/v1/quotes", json=body, headers=buyer.headers)).json()
    order = await client.post(
        "/v1/orders",
        json={"quote_id": quote["id"]},
        headers={**buyer.headers, "Idempotency-Key": "quote-order-0001"},
    )
    assert order.status_code == 201 and order.json()["total_minor"] == 2000
    stale = (await client.post("/v1/quotes", json=body, headers=buyer.headers)).json()
    clock.advance(timedelta(hours=1))
    late = await client.post(
        "/v1/orders",
        json={"quote_id": stale["id"]},
        headers={**buyer.headers, "Idempotency-Key": "quote-order-0002"},
    )
    assert late.status_code == 409 and late.json()["type"].endswith("/quote-expired")


async def test_fairness_check_flags_unexplained_price_differences(api: Api, client: Any, app: Any) -> None:
    seller, a, b = await api.org(), await api.org(roles=("buyer",)), await api.org(roles=("buyer",))
    product = await listed(api, client, app, seller)
    body = {
        "product_id": product["id"],
        "quantity": 10,
        "purpose": "risk_control",
        "scenario": "credit risk scoring",
    }
    qa = (await client.post("/v1/quotes", json=body, headers=a.headers)).json()
    await client.post("/v1/quotes", json=body, headers=b.headers)
    authority = await api.staff("price_authority")
    assert (await client.get(f"/v1/products/{product['id']}/fairness", headers=authority)).json() == []
    from sqlalchemy import update

    from market.orders.models import Quote

    async with app.state.sessionmaker() as s, s.begin():  # a discriminatory price sneaks in
        import uuid as _uuid

        await s.execute(update(Quote).where(Quote.id == _uuid.UUID(qa["id"])).values(total_minor=1))
    findings = (await client.get(f"/v1/products/{product['id']}/fairness", headers=authority)).json()
    assert len(findings) == 1 and "Art. 70" in findings[0]["article"]
    assert (await client.get(f"/v1/products/{product['id']}/fairness", headers=a.headers)).status_code == 403


async def test_unknown_purpose_in_a_licence_template_is_422_not_500(api: Api, client: Any, app: Any) -> None:
    # Found by schemathesis: the contracts library's validator raised through pydantic as a 500.
    seller = await api.org()
    resource = await registered_resource(app, seller.participant_id)
    bad = product_body(resource["resource_id"], licence_template={**TEMPLATE, "permitted_purposes": ["AAA"]})
    r = await client.post("/v1/products", json=bad, headers=seller.headers)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert any("permitted_purposes" in e["field"] for e in r.json()["errors"])
