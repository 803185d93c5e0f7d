"""The registry's side of personal information: consent records in versions, objections on
personal-information grounds after registration (Art. 30), a public register that names no
natural person, withdrawing a draft resource, and correcting one's own details."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from market.registry.certificates import sign_certificate, verify_certificate
from market.registry.models import Registration
from market.settings import Settings
from tests.api.factories import Api
from tests.api.privacy_factories import CONSENT, consent_record, licensee_of, person, personal_product
from tests.api.registry_factories import registered_resource, resource_body, resource_with_sample
from tests.api.test_personal_data_requests import audit_leaves


async def test_consent_records_are_versioned_and_checked_against_the_resource(api: Api, client: Any) -> None:
    seller, stranger = await api.org(), await api.org()
    personal = await resource_with_sample(
        api, seller, category="personal", personal_info="identifiable", consent=CONSENT
    )
    url = f"/v1/resources/{personal['id']}/consent-records"
    v1 = await client.post(url, json=consent_record(1_000), headers=seller.headers)
    v2 = await client.post(
        url, json=consent_record(999, purposes=["risk_control", "marketing"]), headers=seller.headers
    )
    assert (v1.status_code, v2.status_code) == (201, 201)
    history = (await client.get(url, headers=seller.headers)).json()
    assert [(r["version"], r["current"], r["people_covered"]) for r in history] == [
        (2, True, 999),
        (1, False, 1_000),
    ]
    assert history[1]["superseded_at"]
    resource = (await client.get(f"/v1/resources/{personal['id']}", headers=seller.headers)).json()
    assert resource["consent"]["record_version"] == 2 and resource["consent"]["purposes"] == [
        "marketing",
        "risk_control",
    ]

    bad = [
        (consent_record(10, sensitive=3), "body.sensitive_people_covered"),  # not a sensitive resource
        (consent_record(10, evidence_sha256="ABC"), "body.evidence_sha256"),
        (consent_record(0), "body.people_covered"),
        (consent_record(10, sensitive_people_covered=11), "body"),
        (consent_record(10, legal_basis="because"), "body.legal_basis"),
    ]
    for body, field in bad:
        r = await client.post(url, json=body, headers=seller.headers)
        assert r.status_code == 422 and field in [e["field"] for e in r.json()["errors"]], (body, r.text)
    assert (await client.post(url, json=consent_record(5), headers=stranger.headers)).status_code == 404
    assert (await client.get(url, headers=stranger.headers)).status_code == 404
    enterprise = await resource_with_sample(api, seller)
    not_personal = await client.post(
        f"/v1/resources/{enterprise['id']}/consent-records", json=consent_record(5), headers=seller.headers
    )
    assert not_personal.status_code == 422 and not_personal.json()["errors"][0]["field"] == "path.resource_id"
    assert len((await client.get(url, headers=seller.headers)).json()) == 2  # nothing else was stored


async def test_a_personal_information_objection_after_registration_stops_sales(api: Api, client: Any) -> None:
    seller, operator, objector = await api.org(), await api.staff("operator"), await person(api)
    p = await personal_product(api, seller, operator, people=3_000)
    buyer, _ = await licensee_of(api, operator, p["product_id"])
    objections = f"/v1/registrations/{p['registration_id']}/objections"
    wrong_data = await client.post(
        objections,
        json={"kind": "wrong_data", "grounds": "the figures for 2025 are wrong"},
        headers=objector.headers,
    )
    assert wrong_data.status_code == 409 and wrong_data.json()["type"].endswith("/invalid-registration-state")
    filed = await client.post(
        objections,
        json={
            "kind": "personal_information",
            "grounds": "my medical records are in this data without consent",
        },
        headers=objector.headers,
    )
    assert filed.status_code == 201, filed.text
    resolved = await client.post(
        f"/v1/objections/{filed.json()['id']}/resolution",
        json={"outcome": "upheld", "reason": "records of the objector found in the sample"},
        headers=operator,
    )
    assert resolved.status_code == 200, resolved.text
    registration = (
        await client.get(f"/v1/registrations/{p['registration_id']}", headers=seller.headers)
    ).json()
    assert registration["status"] == "registered"  # the holder still holds it; the sale stops
    product = (await client.get(f"/v1/products/{p['product_id']}")).json()
    assert product["listing_status"] == "suspended" and "objection" in product["listing_reason"]
    (owed,) = (await client.get("/v1/licensee-obligations", headers=buyer.headers)).json()["items"]
    assert (owed["cause_type"], owed["cause_id"]) == ("objection", filed.json()["id"])

    # A dismissed one changes nothing.
    second = await client.post(
        objections,
        json={"kind": "personal_information", "grounds": "my address is in this data, I think"},
        headers=objector.headers,
    )
    dismissed = await client.post(
        f"/v1/objections/{second.json()['id']}/resolution",
        json={"outcome": "dismissed", "reason": "no record of the objector"},
        headers=operator,
    )
    assert dismissed.status_code == 200
    assert len((await client.get("/v1/licensee-obligations", headers=buyer.headers)).json()["items"]) == 1


async def test_the_public_register_masks_a_natural_person_holder(api: Api, client: Any, app: Any) -> None:
    seller = await person(api, name="李四", roles=("seller",))
    done = await registered_resource(api, seller)
    number = done["registration"]["registration_number"]
    public = await client.get(f"/v1/registry/{number}")
    assert public.status_code == 200 and "李四" not in public.text
    signed = public.json()["signed_certificate"]
    assert (signed["certificate"]["holder_name"], signed["certificate"]["holder_kind"]) == (
        "李*",
        "natural_person",
    )
    settings: Settings = app.state.settings
    public_key = settings.exchange_signing_key().public_key()
    assert verify_certificate(signed, public_key).ok

    # A certificate signed before holders were masked still names the person in full; the
    # public register serves a masked copy signed again, which verifies too.
    legacy_body = {k: v for k, v in signed["certificate"].items() if k not in ("holder_kind", "key_id")}
    legacy = sign_certificate({**legacy_body, "holder_name": "李四"}, settings.exchange_signing_key())
    async with app.state.sessionmaker() as session, session.begin():
        reg = (
            await session.execute(select(Registration).where(Registration.registration_number == number))
        ).scalar_one()
        reg.certificate = legacy
    again = await client.get(f"/v1/registry/{number}")
    assert again.status_code == 200 and "李四" not in again.text
    served = again.json()["signed_certificate"]
    assert (
        served["certificate"]["holder_name"] == "李*"
        and served["certificate"]["masked_from_original"] is True
    )
    assert verify_certificate(served, public_key).ok
    # The holder's own copy is the original, and it still verifies.
    own = (await client.get(f"/v1/registrations/{done['registration']['id']}", headers=seller.headers)).json()
    assert verify_certificate(own["certificate"], public_key).ok

    organisation = await api.org(name="长春数据有限公司")
    org_number = (await registered_resource(api, organisation))["registration"]["registration_number"]
    org_cert = (await client.get(f"/v1/registry/{org_number}")).json()["signed_certificate"]["certificate"]
    assert org_cert["holder_name"] == "长春数据有限公司"


async def test_a_draft_resource_is_withdrawn_a_registered_one_is_cancelled_instead(
    api: Api, client: Any
) -> None:
    seller, stranger = await api.org(), await api.org()
    draft = (await client.post("/v1/resources", json=resource_body(), headers=seller.headers)).json()
    assert (await client.delete(f"/v1/resources/{draft['id']}", headers=stranger.headers)).status_code == 404
    gone = await client.delete(f"/v1/resources/{draft['id']}", headers=seller.headers)
    assert gone.status_code == 200 and gone.json()["status"] == "withdrawn"
    again = await client.delete(f"/v1/resources/{draft['id']}", headers=seller.headers)
    assert again.status_code == 409 and again.json()["type"].endswith("/resource-not-draft")
    apply = await client.post(
        "/v1/registrations",
        json={"resource_id": draft["id"], "rights_evidence": "ours"},
        headers=seller.headers,
    )
    assert apply.status_code == 409  # a withdrawn resource is not registered

    pending = await resource_with_sample(api, seller)
    applied = await client.post(
        "/v1/registrations",
        json={"resource_id": pending["id"], "rights_evidence": "ours"},
        headers=seller.headers,
    )
    assert applied.status_code == 201
    busy = await client.delete(f"/v1/resources/{pending['id']}", headers=seller.headers)
    assert busy.status_code == 409 and busy.json()["type"].endswith("/registration-in-progress")

    registered = await registered_resource(api, seller)
    refused = await client.delete(f"/v1/resources/{registered['resource']['id']}", headers=seller.headers)
    assert refused.status_code == 409 and "cancellation" in refused.json()["detail"]
    leaves = await audit_leaves(api.app)
    assert any('"action":"resource.withdrawn"' in leaf and draft["id"] in leaf for leaf in leaves)


async def test_a_person_corrects_their_own_details_and_the_log_keeps_no_name(api: Api, client: Any) -> None:
    me, other = await person(api, name="王小明"), await person(api)
    organisation = await api.org()
    url = f"/v1/participants/{me.participant_id}"
    corrected = await client.patch(
        url, json={"name": "王晓明", "identity_number": "220102199001019999"}, headers=me.headers
    )
    assert corrected.status_code == 200 and corrected.json()["name"] == "王晓明"
    assert (await client.patch(url, json={"name": "x"}, headers=other.headers)).status_code == 404
    assert (await client.patch(url, json={}, headers=me.headers)).status_code == 422
    assert (
        await client.patch(url, json={"credit_code": "91350100M000100Y43"}, headers=me.headers)
    ).status_code == 422
    duplicate = await client.patch(
        f"/v1/participants/{other.participant_id}",
        json={"identity_number": "220102199001019999"},
        headers=other.headers,
    )
    # Answered as a correction (another's number is not confirmed), and nothing is changed:
    # tests/api/test_uniform_sign_up.py follows what the holder and the operators are told.
    assert duplicate.status_code == 200
    no_id_for_companies = await client.patch(
        f"/v1/participants/{organisation.participant_id}",
        json={"identity_number": "1234567"},
        headers=organisation.headers,
    )
    assert no_id_for_companies.status_code == 422
    renamed = await client.patch(
        f"/v1/participants/{organisation.participant_id}",
        json={"name": "吉林数据有限公司"},
        headers=organisation.headers,
    )
    assert renamed.status_code == 200
    leaves = await audit_leaves(api.app)
    assert not [
        leaf for leaf in leaves if "王晓明" in leaf or "王小明" in leaf or "220102199001019999" in leaf
    ]
    assert any('"action":"participant.corrected"' in leaf and "王**" in leaf for leaf in leaves)
    assert any("吉林数据有限公司" in leaf for leaf in leaves)  # organisations are named in full
