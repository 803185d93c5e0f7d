"""A new seller's refusals say what comes next: a resource in publicity names its registration
and the end of publicity, a listing without an operating right names the grant to make, and no
message starts with an internal code."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.api.factories import Api
from tests.api.registry_factories import CHECKLIST, resource_with_sample
from tests.api.test_catalog_products import product_body


async def test_the_seller_path_names_each_next_step(api: Api, client: Any) -> None:
    seller, operator = await api.org(), await api.staff("operator")
    resource = await resource_with_sample(api, seller)
    body = product_body(resource["id"])

    draft = await client.post("/v1/products", json=body, headers=seller.headers)
    assert draft.status_code == 422
    assert draft.json()["detail"].startswith(
        "apply for the resource's registration first: POST /v1/registrations"
    )
    assert draft.json()["errors"][0]["field"] == "body.resource_ids.0"

    applied = (
        await client.post(
            "/v1/registrations",
            json={"resource_id": resource["id"], "rights_evidence": "own collection"},
            headers=seller.headers,
        )
    ).json()
    reviewing = await client.post("/v1/products", json=body, headers=seller.headers)
    assert reviewing.json()["detail"].startswith(f"registration {applied['id']} awaits an operator's review")

    approved = await client.post(
        f"/v1/registrations/{applied['id']}/decision",
        json={"decision": "approve", "checklist": CHECKLIST},
        headers=operator,
    )
    ends = datetime.fromisoformat(approved.json()["publicity_ends_at"])
    in_publicity = await client.post("/v1/products", json=body, headers=seller.headers)
    assert in_publicity.status_code == 422
    day = ends.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d")
    assert in_publicity.json()["detail"].startswith(
        f"registration {applied['id']} is in publicity until {day} "
    ), in_publicity.json()
    assert "and registers then" in in_publicity.json()["detail"]

    moved = await client.post(
        "/v1/admin/clock/advance",
        json={"until": (ends + timedelta(minutes=1)).isoformat()},
        headers=operator,
    )
    assert moved.json()["jobs"]["registry.finalise_due"] == 1
    created = await client.post("/v1/products", json=body, headers=seller.headers)
    assert created.status_code == 201, created.text
    product = created.json()

    refused = await client.post(f"/v1/products/{product['id']}/listing", headers=seller.headers)
    assert refused.status_code == 200
    listed = refused.json()["product"]
    assert listed["listing_status"] == "rejected"
    assert listed["listing_reason"].startswith(
        "grant yourself an operating right over the resource: POST /v1/grants"
    )
    assert product["id"] in listed["listing_reason"]

    rights = (await client.get(f"/v1/resources/{resource['id']}/rights", headers=seller.headers)).json()
    holding = rights["roots"][0]["grant"]["id"]
    grant = {
        "parent_grant_id": holding,
        "kind": "operating",
        "holder_id": seller.participant_id,
        "subject_kind": "resource",
        "subject_id": resource["id"],
        "purposes": ["risk_control"],
    }
    wrong = await client.post("/v1/grants", json=grant, headers=seller.headers)
    assert wrong.status_code == 422
    assert wrong.json()["detail"].startswith("the operating right is a right to operate a data product")
    assert "POST /v1/products" in wrong.json()["detail"]
    assert wrong.json()["errors"] == [
        {"field": "body.subject_kind", "reason": wrong.json()["errors"][0]["reason"]}
    ]

    granted = await client.post(
        "/v1/grants",
        json={**grant, "subject_kind": "product", "subject_id": product["id"]},
        headers=seller.headers,
    )
    assert granted.status_code == 201, granted.text
    again = await client.post(f"/v1/products/{product['id']}/listing", headers=seller.headers)
    assert again.json()["product"]["listing_status"] == "listed", again.text
