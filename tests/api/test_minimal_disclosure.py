"""Issue 18, finding 10: a buyer's dry run on another seller's product shows only what the buyer
may see: its own side, not the seller's credit status nor the data's classification (which
`GET /v1/resources/{id}` hides from it too). The seller and operators see the whole decision."""

from __future__ import annotations

import json
from typing import Any

from tests.api.compliance_factories import listed_product
from tests.api.factories import Api

TRADE = {"kind": "trade", "purpose": "risk_control", "scenario": "credit risk scoring"}


async def test_a_buyers_dry_run_hides_the_sellers_credit_and_the_data_class(
    api: Api, client: Any, app: Any
) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    watched = await client.patch(
        f"/v1/participants/{seller.participant_id}/credit",
        json={"status": "watch", "reason": "late filings under review"},
        headers=operator,
    )
    assert watched.status_code == 200
    product = await listed_product(app, seller.participant_id, grade="important")
    body = {**TRADE, "product_id": product["product_id"]}

    mine = await client.post("/v1/compliance/checks", json=body, headers=buyer.headers)
    assert mine.status_code == 200, mine.text
    text = json.dumps(mine.json())
    for secret in ('"watch"', '"important"', "PART-002", "DATA-002"):
        assert secret not in text, secret
    assert mine.json()["outcome"] == "needs_review"
    assert [f["rule_id"] for f in mine.json()["findings"]] == ["PRODUCT"]

    full = await client.post(
        "/v1/compliance/checks", json={**body, "buyer_id": buyer.participant_id}, headers=operator
    )
    rules = {f["rule_id"] for f in full.json()["findings"]}
    assert {"PART-002", "DATA-002"} <= rules
    assert full.json()["facts"]["listing"]["seller"]["credit"] == "watch"
