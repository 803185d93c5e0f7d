"""Two operators deciding the same review at the same moment: one wins, the other gets 409."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.api.compliance_factories import listed_product
from tests.api.factories import Api
from tests.api.registry_factories import CHECKLIST, resource_with_sample


async def test_two_operators_one_listing_review(api: Api, client: Any, app: Any) -> None:
    seller = await api.org()
    first, second = await api.staff("operator"), await api.staff("operator")
    product = await listed_product(app, seller.participant_id, grade="important", listing_status="draft")
    parked = await client.post(f"/v1/products/{product['product_id']}/listing", headers=seller.headers)
    assert parked.json()["product"]["listing_status"] == "needs_review"
    url = f"/v1/listings/{product['product_id']}/decision"
    results = await asyncio.gather(
        client.post(url, headers=first, json={"action": "list", "reason": "reviewed, domestic only"}),
        client.post(url, headers=second, json={"action": "reject", "reason": "not convinced"}),
    )
    assert sorted(r.status_code for r in results) == [200, 409]


async def test_two_operators_one_registration(api: Api, client: Any) -> None:
    seller = await api.org()
    first, second = await api.staff("operator"), await api.staff("operator")
    resource = await resource_with_sample(api, seller)
    reg = (
        await client.post(
            "/v1/registrations",
            headers=seller.headers,
            json={"resource_id": resource["id"], "rights_evidence": "own data"},
        )
    ).json()
    url = f"/v1/registrations/{reg['id']}/decision"
    results = await asyncio.gather(
        client.post(url, headers=first, json={"decision": "approve", "checklist": CHECKLIST}),
        client.post(
            url,
            headers=second,
            json={"decision": "reject", "checklist": CHECKLIST, "reasons": ["incomplete evidence"]},
        ),
    )
    assert sorted(r.status_code for r in results) == [200, 409]
