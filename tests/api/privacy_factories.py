"""Personal data on sale, its licensees, and the people in it, all through the real API."""

from __future__ import annotations

import hashlib
import itertools
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.api.factories import PASSWORD, Api, Party
from tests.api.registry_factories import grant, holding_grant_id, registered_resource
from tests.api.test_catalog_products import product_body

_people = itertools.count(1)
EVIDENCE = hashlib.sha256(b"signed consent forms, batch 2026-03").hexdigest()
CONSENT = {
    "purposes": ["risk_control"],
    "covers_onward_transfer": True,
    "separate_consent_for_sensitive": False,
    "evidence": "consent forms archived at our Changchun office",
}


@dataclass
class CapturingSender:
    """The contact-sender port's test fake: keeps every code instead of mailing it."""

    available: bool = True
    sent: list[dict[str, Any]] = field(default_factory=list)

    async def send_code(self, *, channel: str, contact: str, code: str, expires_at: datetime) -> None:
        self.sent.append({"channel": channel, "contact": contact, "code": code})

    def last_code(self, contact: str) -> str:
        return str(next(m["code"] for m in reversed(self.sent) if m["contact"] == contact))


async def person(api: Api, name: str = "李四", roles: tuple[str, ...] = ("buyer",)) -> Party:
    """A natural person with an account."""
    n = next(_people)
    email = f"person{n}-{uuid.uuid4().hex[:6]}@mail.example.cn"
    r = await api.client.post(
        "/v1/participants",
        json={
            "kind": "natural_person",
            "name": name,
            "identity_number": f"22010219900101{n:04d}",
            "roles": list(roles),
            "user": {"email": email, "password": PASSWORD, "display_name": name},
        },
    )
    assert r.status_code == 201, r.text
    return Party(r.json()["participant"]["id"], r.json()["user"]["id"], email, await api.login(email))


def consent_record(people: int, sensitive: int = 0, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "legal_basis": "consent",
        "purposes": ["risk_control"],
        "onward_transfer_consented": True,
        "sensitive_separately_consented": sensitive > 0,
        "people_covered": people,
        "sensitive_people_covered": sensitive,
        "evidence_sha256": EVIDENCE,
        "evidence_description": "signed consent forms, scanned, at our Changchun office",
    }
    body.update(over)
    return body


async def personal_product(
    api: Api, seller: Party, operator: dict[str, str], *, people: int | None, territory: str = "domestic"
) -> dict[str, str]:
    """A registered personal resource with its consent record (none when `people` is None), and
    a listed product on it."""
    client = api.client
    done = await registered_resource(
        api, seller, operator, category="personal", personal_info="identifiable", consent=CONSENT
    )
    rid = done["resource"]["id"]
    if people is not None:
        recorded = await client.post(
            f"/v1/resources/{rid}/consent-records", json=consent_record(people), headers=seller.headers
        )
        assert recorded.status_code == 201, recorded.text
    made = await client.post("/v1/products", json=product_body(rid), headers=seller.headers)
    assert made.status_code == 201, made.text
    pid = made.json()["id"]
    root = await holding_grant_id(api, seller.headers, rid)
    operating = await grant(
        api, seller, root, seller.participant_id, "operating", "product", pid, territory=territory
    )
    assert operating.status_code == 201, operating.text
    listed = await client.post(f"/v1/products/{pid}/listing", headers=seller.headers)
    assert listed.json()["product"]["listing_status"] == "listed", listed.json()
    return {
        "resource_id": rid,
        "product_id": pid,
        "registration_id": done["registration"]["id"],
        "registration_number": done["registration"]["registration_number"],
    }


def quote_body(product_id: str, **over: Any) -> dict[str, Any]:
    return {
        "product_id": product_id,
        "quantity": 1,
        "purpose": "risk_control",
        "scenario": "credit risk scoring",
        **over,
    }


async def licensee_of(api: Api, operator: dict[str, str], product_id: str, **buyer: Any) -> tuple[Party, str]:
    """A buyer who bought the product and holds its licence (offline payment, confirmed)."""
    client = api.client
    party = await api.org(roles=("buyer",), **buyer)
    quote = await client.post("/v1/quotes", json=quote_body(product_id), headers=party.headers)
    assert quote.status_code == 201, quote.text
    order = await client.post(
        "/v1/orders",
        json={"quote_id": quote.json()["id"]},
        headers={**party.headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert order.status_code == 201, order.text
    paid = await client.post(f"/v1/payments/{order.json()['id']}/confirmation", headers=operator)
    assert paid.status_code == 200, paid.text
    return party, str(paid.json()["licence_id"])


async def verified_contact(
    api: Api, sender: CapturingSender, contact: str, channel: str = "sms"
) -> dict[str, str]:
    """A person without an account, verified by the code sent to `contact`: their headers."""
    started = await api.client.post(
        "/v1/subject-requests/contact-verifications", json={"channel": channel, "contact": contact}
    )
    assert started.status_code == 201, started.text
    confirmed = await api.client.post(
        f"/v1/subject-requests/contact-verifications/{started.json()['id']}/confirmation",
        json={"code": sender.last_code(contact)},
    )
    assert confirmed.status_code == 200, confirmed.text
    return {"X-Requester-Token": confirmed.json()["requester_token"]}
