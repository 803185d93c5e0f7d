"""Issue 18, finding 9: organisations and public bodies are verified by an operator before they
may list or buy; a sign-up resembling a blacklisted participant is held for review."""

from __future__ import annotations

import uuid
from typing import Any

from tests.api.compliance_factories import listed_product
from tests.api.compliance_factories import registered_resource as inserted_resource
from tests.api.factories import VERIFIED_CHECKLIST, Api
from tests.api.orders_factories import sealed_quote
from tests.api.test_catalog_products import product_body


async def quote(client: Any, party: Any, product_id: str) -> Any:
    """Buy: order a quote issued for the party."""
    sealed = await sealed_quote(client._transport.app, product_id, party.participant_id)
    return await client.post(
        "/v1/orders",
        json={"quote_id": sealed},
        headers={**party.headers, "Idempotency-Key": uuid.uuid4().hex},
    )


async def test_an_unverified_organisation_may_not_list_or_buy_until_verified(
    api: Api, client: Any, app: Any
) -> None:
    operator = await api.staff("operator")
    seller = await api.org()
    newcomer = await api.org(verified=False)
    me = (await client.get(f"/v1/participants/{newcomer.participant_id}", headers=newcomer.headers)).json()
    assert me["verification_status"] == "pending_verification"
    product = await listed_product(app, seller.participant_id)
    refused = await quote(client, newcomer, product["product_id"])
    assert refused.status_code == 403 and refused.json()["type"].endswith("/participant-not-verified")
    asked = await client.post(
        "/v1/quotes",
        json={"product_id": product["product_id"], "quantity": 1, "purpose": "risk_control", "scenario": "x"},
        headers=newcomer.headers,
    )
    assert asked.status_code == 403 and asked.json()["type"].endswith("/participant-not-verified")

    resource = await inserted_resource(app, newcomer.participant_id)
    made = await client.post(
        "/v1/products", json=product_body(resource["resource_id"]), headers=newcomer.headers
    )
    assert made.status_code == 201, made.text  # preparing is allowed
    listing = await client.post(f"/v1/products/{made.json()['id']}/listing", headers=newcomer.headers)
    assert listing.status_code == 403 and listing.json()["type"].endswith("/participant-not-verified")

    waiting = (await client.get("/v1/participant-verifications", headers=operator)).json()
    assert newcomer.participant_id in [w["participant"]["id"] for w in waiting]
    incomplete = await client.post(
        f"/v1/participants/{newcomer.participant_id}/verification",
        json={
            "decision": "verify",
            "checklist": {**VERIFIED_CHECKLIST, "intended_use": False},
            "reason": "documents seen",
        },
        headers=operator,
    )
    assert incomplete.status_code == 422
    assert "body.checklist.intended_use" in [e["field"] for e in incomplete.json()["errors"]]
    by_itself = await client.post(
        f"/v1/participants/{newcomer.participant_id}/verification",
        json={"decision": "verify", "checklist": VERIFIED_CHECKLIST, "reason": "it is me, honestly"},
        headers=newcomer.headers,
    )
    assert by_itself.status_code == 403
    done = await client.post(
        f"/v1/participants/{newcomer.participant_id}/verification",
        json={
            "decision": "verify",
            "checklist": VERIFIED_CHECKLIST,
            "reason": "business licence and mandate checked",
            "documents": ["blob:licence-2026-001.pdf"],
        },
        headers=operator,
    )
    assert done.status_code == 200 and done.json()["verification_status"] == "verified"
    assert (await quote(client, newcomer, product["product_id"])).status_code == 201
    auditor = await api.staff("auditor")
    entries = (
        await client.get(
            "/v1/audit/entries",
            params={"action": "participant.verified", "subject_id": newcomer.participant_id},
            headers=auditor,
        )
    ).json()["items"]
    assert entries and entries[0]["payload"]["checklist"] == VERIFIED_CHECKLIST


async def test_a_fake_public_body_and_a_foreign_org_without_identifier_wait(
    api: Api, client: Any, app: Any
) -> None:
    seller = await api.org()
    product = await listed_product(app, seller.participant_id)
    fake = await api.org(name="Fake Gov Bureau", kind="public_body", roles=("buyer",), verified=False)
    foreign = await api.org(
        kind="organisation",
        jurisdiction="foreign",
        country="US",
        credit_code=None,
        roles=("buyer",),
        verified=False,
    )
    for party in (fake, foreign):
        r = await quote(client, party, product["product_id"])
        assert r.status_code == 403, r.text
    operator = await api.staff("operator")
    declined = await client.post(
        f"/v1/participants/{fake.participant_id}/verification",
        json={
            "decision": "decline",
            "checklist": {**VERIFIED_CHECKLIST, "identity_documents": False},
            "reason": "no such bureau",
        },
        headers=operator,
    )
    assert declined.status_code == 200 and declined.json()["verification_status"] == "declined"
    assert (await quote(client, fake, product["product_id"])).status_code == 403


async def test_a_natural_person_is_verified_by_its_id_number(client: Any) -> None:
    body = {
        "kind": "natural_person",
        "name": "李某",
        "identity_number": "220102199202023456",
        "roles": ["buyer"],
        "user": {"email": "li@person.example.cn", "password": "a long passphrase here", "display_name": "李"},
    }
    r = await client.post("/v1/participants", json=body)
    assert r.status_code == 201 and r.json()["participant"]["verification_status"] == "verified"


async def test_a_blacklisted_organisation_signing_up_again_is_held(api: Api, client: Any, app: Any) -> None:
    operator = await api.staff("operator")
    seller = await api.org()
    product = await listed_product(app, seller.participant_id)
    crook = await api.org(name="长春骗子数据有限公司", legal_representative="张三")
    blacklisted = await client.patch(
        f"/v1/participants/{crook.participant_id}/credit",
        json={"status": "blacklisted", "reason": "court judgment for fraud"},
        headers=operator,
    )
    assert blacklisted.status_code == 200
    overrides: list[dict[str, Any]] = [
        {"name": "长春骗子数据有限公司"},
        {"name": "Another Name Ltd", "legal_representative": "张三"},
    ]
    for over in overrides:
        again = await api.org(verified=False, **over)
        me = (await client.get(f"/v1/participants/{again.participant_id}", headers=again.headers)).json()
        assert me["verification_status"] == "held"
        assert (await quote(client, again, product["product_id"])).status_code == 403
    held = (await client.get("/v1/participant-verifications?status=held", headers=operator)).json()
    assert len(held) == 2 and all(crook.participant_id in h["verification_note"] for h in held)
    alerts = (await client.get("/v1/alerts?rule=signup-resembles-blacklisted", headers=operator)).json()[
        "items"
    ]
    assert len(alerts) == 2
