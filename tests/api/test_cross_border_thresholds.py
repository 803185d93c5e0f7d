"""Cross-border sales of personal information against the CAC 2024 thresholds (Jilin Regulation
2023 Art. 88): the seller's consent records say how many people a resource covers, and what it
has already sold abroad since 1 January counts too."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from market.common.clock import now
from tests.api.factories import Api, Party
from tests.api.privacy_factories import consent_record, licensee_of, personal_product, quote_body


def trade_006(problem: dict[str, Any]) -> dict[str, Any]:
    return next(f for f in problem["findings"] if f["rule_id"] == "TRADE-006")


async def filing(client: Any, operator: dict[str, str], buyer: Party, resource_id: str, kind: str) -> None:
    r = await client.post(
        "/v1/compliance/security-assessments",
        headers=operator,
        json={
            "recipient_id": buyer.participant_id,
            "resource_id": resource_id,
            "kind": kind,
            "reference": "CAC-2026-0042",
            "valid_until": (now() + timedelta(days=365)).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == kind


async def test_a_million_people_abroad_need_an_assessment_fifty_thousand_do_not(
    api: Api, client: Any
) -> None:
    seller, operator = await api.org(), await api.staff("operator")
    foreign = await api.org(roles=("buyer",), jurisdiction="foreign", country="SG")
    big = await personal_product(api, seller, operator, people=1_200_000, territory="cross_border")
    small = await personal_product(api, seller, operator, people=50_000, territory="cross_border")

    refused = await client.post("/v1/quotes", json=quote_body(big["product_id"]), headers=foreign.headers)
    assert refused.status_code == 403, refused.text
    finding = trade_006(refused.json())
    assert finding["details"]["obligation"] == "security_assessment"
    assert finding["details"]["people_this_year"] == 1_200_000
    assert finding["details"]["reasons"] == {big["resource_id"]: "security_assessment_required"}

    exempt = await client.post("/v1/quotes", json=quote_body(small["product_id"]), headers=foreign.headers)
    assert exempt.status_code == 201, exempt.text
    check = await client.post(
        "/v1/compliance/checks",
        json={
            "kind": "trade",
            "product_id": small["product_id"],
            "purpose": "risk_control",
            "scenario": "credit risk scoring",
            "cross_border": True,
        },
        headers=foreign.headers,
    )
    (note,) = [f for f in check.json()["findings"] if f["rule_id"] == "TRADE-009"]
    assert note["outcome"] == "allow-note" and note["details"]["obligation"] == "exempt"

    # A standard contract is not enough for a million people; an assessment is.
    await filing(client, operator, foreign, big["resource_id"], "standard_contract")
    still = await client.post("/v1/quotes", json=quote_body(big["product_id"]), headers=foreign.headers)
    assert (
        still.status_code == 403 and trade_006(still.json())["details"]["obligation"] == "security_assessment"
    )
    await filing(client, operator, foreign, big["resource_id"], "security_assessment")
    assessed = await client.post("/v1/quotes", json=quote_body(big["product_id"]), headers=foreign.headers)
    assert assessed.status_code == 201, assessed.text

    # Domestic buyers are not exporting anything.
    domestic = await api.org(roles=("buyer",))
    assert (
        await client.post("/v1/quotes", json=quote_body(big["product_id"]), headers=domestic.headers)
    ).status_code == 201


async def test_this_years_exports_add_up_to_the_next_threshold(api: Api, client: Any) -> None:
    seller, operator = await api.org(), await api.staff("operator")
    first = await personal_product(api, seller, operator, people=60_000, territory="cross_border")
    second = await personal_product(api, seller, operator, people=60_000, territory="cross_border")
    await licensee_of(api, operator, first["product_id"], jurisdiction="foreign", country="SG")

    # 60,000 sold abroad this year + 60,000 now = 120,000: a standard contract or certification.
    foreign = await api.org(roles=("buyer",), jurisdiction="foreign", country="DE")
    refused = await client.post("/v1/quotes", json=quote_body(second["product_id"]), headers=foreign.headers)
    assert refused.status_code == 403, refused.text
    details = trade_006(refused.json())["details"]
    assert (details["obligation"], details["people_this_year"]) == (
        "standard_contract_or_certification",
        120_000,
    )
    # Selling the first resource abroad again counts its people once: still under 100,000.
    again = await client.post("/v1/quotes", json=quote_body(first["product_id"]), headers=foreign.headers)
    assert again.status_code == 201, again.text
    await filing(client, operator, foreign, second["resource_id"], "certification")
    certified = await client.post(
        "/v1/quotes", json=quote_body(second["product_id"]), headers=foreign.headers
    )
    assert certified.status_code == 201, certified.text


async def test_without_a_consent_record_nobody_is_counted_so_nothing_goes_abroad(
    api: Api, client: Any
) -> None:
    seller, operator = await api.org(), await api.staff("operator")
    p = await personal_product(api, seller, operator, people=None, territory="cross_border")
    foreign = await api.org(roles=("buyer",), jurisdiction="foreign", country="SG")
    refused = await client.post("/v1/quotes", json=quote_body(p["product_id"]), headers=foreign.headers)
    assert refused.status_code == 403
    assert trade_006(refused.json())["details"]["missing_facts"] == [
        f"resources[{p['resource_id']}].people_covered"
    ]
    recorded = await client.post(
        f"/v1/resources/{p['resource_id']}/consent-records",
        json=consent_record(8_000),
        headers=seller.headers,
    )
    assert recorded.status_code == 201, recorded.text
    assert (
        await client.post("/v1/quotes", json=quote_body(p["product_id"]), headers=foreign.headers)
    ).status_code == 201
