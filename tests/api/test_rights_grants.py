"""Three-rights separation through the API: who may grant, what fits, what revocation does."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from market.common import clock
from tests.api.factories import Api
from tests.api.registry_factories import grant, holding_grant_id, registered_resource

TEMPLATE = {
    "permitted_purposes": ["risk_control"],
    "scenarios": ["credit risk scoring"],
    "term_days": 30,
}


def product_body(resource_id: str) -> dict[str, Any]:
    return {
        "title": "SME risk index",
        "resource_ids": [resource_id],
        "delivery_mode": "api",
        "scenarios": ["credit risk scoring"],
        "licence_template": TEMPLATE,
        "price_plan": {"kind": "fixed", "unit_price": "10", "currency": "CNY"},
    }


async def test_grant_chain_rules_and_revocation_cascade(api: Api, client: Any) -> None:
    holder, processor, reseller = await api.org(), await api.org(), await api.org()
    done = await registered_resource(api, holder)
    rid = done["resource"]["id"]
    root = await holding_grant_id(api, holder.headers, rid)
    processing = await grant(api, holder, root, processor.participant_id, "processing", "resource", rid)
    assert processing.status_code == 201, processing.text
    pid = processing.json()["id"]
    # A non-sublicensable processing right cannot be passed on.
    onward = await grant(api, processor, pid, reseller.participant_id, "processing", "resource", rid)
    assert onward.status_code == 422, onward.text
    assert any(pid in e["reason"] for e in onward.json()["errors"])
    # Nobody grants under a right they do not hold.
    stolen = await grant(api, reseller, root, reseller.participant_id, "processing", "resource", rid)
    assert stolen.status_code in (403, 404)
    wider = await grant(
        api,
        holder,
        root,
        processor.participant_id,
        "processing",
        "resource",
        rid,
        purposes=["marketing", "unknown_purpose"],
    )
    assert wider.status_code == 422
    sub = await grant(
        api,
        holder,
        root,
        processor.participant_id,
        "processing",
        "resource",
        rid,
        sublicensable=True,
        purposes=["risk_control"],
    )
    assert sub.status_code == 201
    child = await grant(
        api,
        processor,
        sub.json()["id"],
        reseller.participant_id,
        "processing",
        "resource",
        rid,
        purposes=["risk_control", "marketing"],
    )
    assert child.status_code == 422  # wider than its parent
    child = await grant(
        api,
        processor,
        sub.json()["id"],
        reseller.participant_id,
        "processing",
        "resource",
        rid,
        purposes=["risk_control"],
    )
    assert child.status_code == 201, child.text
    odrl = await client.get(f"/v1/grants/{child.json()['id']}/odrl", headers=reseller.headers)
    assert odrl.status_code == 200 and "permission" in odrl.json()
    not_grantor = await client.post(
        f"/v1/grants/{sub.json()['id']}/revocation",
        headers=reseller.headers,
        json={"reason": "mine now"},
    )
    assert not_grantor.status_code in (403, 404)
    revoked = await client.post(
        f"/v1/grants/{sub.json()['id']}/revocation",
        headers=holder.headers,
        json={"reason": "contract ended"},
    )
    assert revoked.status_code == 200 and revoked.json()["invalidated"] == [child.json()["id"]]
    tree = (await client.get(f"/v1/resources/{rid}/rights", headers=holder.headers)).json()
    validity = {}

    def walk(nodes: list[dict[str, Any]]) -> None:
        for n in nodes:
            validity[n["grant"]["id"]] = n["valid"]
            walk(n["children"])

    walk(tree["roots"])
    assert validity[root] and validity[pid]
    assert not validity[sub.json()["id"]] and not validity[child.json()["id"]]


async def test_processor_cannot_list_and_revoked_or_expired_operating_right_stops_sales(
    api: Api, client: Any
) -> None:
    holder, processor, buyer = await api.org(), await api.org(), await api.org(roles=("buyer",))
    done = await registered_resource(api, holder)
    rid = done["resource"]["id"]
    root = await holding_grant_id(api, holder.headers, rid)
    await grant(api, holder, root, processor.participant_id, "processing", "resource", rid)
    product = (await client.post("/v1/products", json=product_body(rid), headers=processor.headers)).json()
    listing = await client.post(f"/v1/products/{product['id']}/listing", headers=processor.headers)
    assert listing.json()["product"]["listing_status"] == "rejected"
    assert "LIST-001" in {f["rule_id"] for f in listing.json()["findings"]}

    own = (await client.post("/v1/products", json=product_body(rid), headers=holder.headers)).json()
    operating = await grant(
        api,
        holder,
        root,
        holder.participant_id,
        "operating",
        "product",
        own["id"],
        purposes=["risk_control"],
        valid_to=(clock.now() + timedelta(days=10)).isoformat(),
    )
    assert operating.status_code == 201, operating.text
    listed = await client.post(f"/v1/products/{own['id']}/listing", headers=holder.headers)
    assert listed.json()["product"]["listing_status"] == "listed", listed.json()
    body = {
        "product_id": own["id"],
        "quantity": 1,
        "purpose": "risk_control",
        "scenario": "credit risk scoring",
    }
    assert (await client.post("/v1/quotes", json=body, headers=buyer.headers)).status_code == 201
    clock.advance(timedelta(days=11))  # the operating right has expired
    expired = await client.post("/v1/quotes", json=body, headers=buyer.headers)
    assert expired.status_code == 403 and "LIST-001" in {f["rule_id"] for f in expired.json()["findings"]}

    fresh = (await client.post("/v1/products", json=product_body(rid), headers=holder.headers)).json()
    op2 = (
        await grant(
            api,
            holder,
            root,
            holder.participant_id,
            "operating",
            "product",
            fresh["id"],
            purposes=["risk_control"],
        )
    ).json()
    await client.post(f"/v1/products/{fresh['id']}/listing", headers=holder.headers)
    body["product_id"] = fresh["id"]
    quote = (await client.post("/v1/quotes", json=body, headers=buyer.headers)).json()
    await client.post(f"/v1/grants/{op2['id']}/revocation", headers=holder.headers, json={"reason": "stop"})
    stopped = await client.post(
        "/v1/orders",
        json={"quote_id": quote["id"]},
        headers={**buyer.headers, "Idempotency-Key": "revoked-upstream-1"},
    )
    assert stopped.status_code == 403
