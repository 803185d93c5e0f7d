"""`market demo --seller`: the whole seller path against a running service, narrated.

sample → registration → operator review → publicity → (demo time moves past its end, as an
operator may in embedded mode) → registered → product → operating right → listing. Every step is
the public API a seller (or the operator) calls; nothing touches the database.
"""

from __future__ import annotations

import hashlib
import sys
from datetime import datetime, timedelta
from typing import Any

import httpx

from market.demo.script import Narrator, login
from market.demo.seed import DEMO_SELLER

SAMPLE = b"month,district,new_firms\n2026-10,Nanguan,88\n2026-10,Chaoyang,131\n"
CHECKLIST = {
    "classification_present": True,
    "lawful_source": True,
    "fingerprint": True,
    "rights_evidence": True,
}


def run_seller_demo(base_url: str) -> int:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        n = Narrator(client)
        try:
            n.check("service ready", client.get("/readyz"), 200)
        except httpx.ConnectError:
            print(f"no service at {base_url}: start it with `market serve` first", file=sys.stderr)
            return 2
        seller_path(n, client)
        n.say("done." if n.failures == 0 else f"done with {n.failures} failed step(s).")
        return 1 if n.failures else 0


def seller_path(n: Narrator, client: httpx.Client) -> None:
    n.say("1. The seller logs in (demo account seeded by `market serve`), the operator too.")
    seller = login(client, DEMO_SELLER[0])
    operator = login(client, "operator@demo.example.cn")
    me = n.check("GET /v1/auth/me", client.get("/v1/auth/me", headers=seller), 200)
    if not me:
        return
    n.say("2. The seller describes a data resource and uploads a sample (its SHA-256 is the fingerprint).")
    resource = n.check(
        "POST /v1/resources",
        client.post(
            "/v1/resources",
            headers=seller,
            json={
                "title": "长春新设企业月度统计",
                "description": "New enterprises per district and month",
                "category": "enterprise",
                "grade": "general",
                "lawful_source": "compiled from our own registration-agency records under contract",
            },
        ),
        201,
    )
    if not resource:
        return
    digest = hashlib.sha256(SAMPLE).hexdigest()
    uploaded = n.check(
        "PUT /v1/resources/{id}/sample",
        client.put(
            f"/v1/resources/{resource['id']}/sample",
            content=SAMPLE,
            headers={**seller, "Content-Type": "text/csv", "X-Expected-SHA256": digest},
        ),
        200,
    )
    if not uploaded:
        return
    n.say(f"   resource {resource['id']}, sample fingerprint {digest[:16]}…")
    n.say("3. The seller applies to register it (Art. 62).")
    reg = n.check(
        "POST /v1/registrations",
        client.post(
            "/v1/registrations",
            headers=seller,
            json={"resource_id": resource["id"], "rights_evidence": "collection contracts 2026-017"},
        ),
        201,
    )
    if not reg:
        return
    n.say("4. An operator reviews the application against the checklist and approves it.")
    approved = n.check(
        "POST /v1/registrations/{id}/decision",
        client.post(
            f"/v1/registrations/{reg['id']}/decision",
            headers=operator,
            json={"decision": "approve", "checklist": CHECKLIST},
        ),
        200,
    )
    if not approved:
        return
    ends = datetime.fromisoformat(approved["publicity_ends_at"])
    n.say(f"   status {approved['status']}: anyone may object until {approved['publicity_ends_at']}")
    n.say("5. A product cannot rest on it yet; the exchange says why and until when:")
    early = client.post("/v1/products", headers=seller, json=_product(resource["id"]))
    n.say(f"   HTTP {early.status_code}: {early.json().get('detail')}")
    n.say("6. Demo time: the operator moves the business clock past the end of publicity")
    n.say("   (embedded mode only; `market clock advance 15d` does the same from the shell).")
    moved = n.check(
        "POST /v1/admin/clock/advance",
        client.post(
            "/v1/admin/clock/advance",
            headers=operator,
            json={"until": (ends + timedelta(minutes=1)).isoformat()},
        ),
        200,
    )
    if not moved:
        return
    n.say(f"   business time is now {moved['now']}; the finalisation job ran: {moved['jobs']}")
    registered = n.check(
        "GET /v1/registrations/{id}",
        client.get(f"/v1/registrations/{reg['id']}", headers=seller),
        200,
    )
    if not registered or registered["status"] != "registered":
        n.failures += 1
        n.say(f"   not registered: {registered}")
        return
    n.say(f"   registered as {registered['registration_number']}, with a signed certificate")
    n.say("7. The seller builds a product on the registered resource.")
    product = n.check(
        "POST /v1/products",
        client.post("/v1/products", headers=seller, json=_product(resource["id"])),
        201,
    )
    if not product:
        return
    n.say("8. Registration gave the seller the holding right; it grants itself the operating")
    n.say("   right over the product (Art. 22: holding, processing and operating rights are separate).")
    tree = n.check(
        "GET /v1/resources/{id}/rights",
        client.get(f"/v1/resources/{resource['id']}/rights", headers=seller),
        200,
    )
    if not tree:
        return
    holding = tree["roots"][0]["grant"]["id"]
    grant = n.check(
        "POST /v1/grants",
        client.post(
            "/v1/grants",
            headers=seller,
            json={
                "parent_grant_id": holding,
                "kind": "operating",
                "holder_id": me["participant_id"],
                "subject_kind": "product",
                "subject_id": product["id"],
                "purposes": ["risk_control", "commercial_analytics"],
            },
        ),
        201,
    )
    if not grant:
        return
    n.say("9. The seller submits the listing; the listing rules decide.")
    listing = n.check(
        "POST /v1/products/{id}/listing",
        client.post(f"/v1/products/{product['id']}/listing", headers=seller),
        200,
    )
    if not listing:
        return
    status = listing["product"]["listing_status"]
    n.say(f"   {status}; compliance outcome {listing['compliance_outcome']}")
    if status != "listed":
        n.failures += 1
        n.say(f"   reason: {listing['product']['listing_reason']}")
        return
    found = n.check(
        "GET /v1/catalog?q=… (public)", client.get("/v1/catalog", params={"q": product["title"]}), 200
    )
    if found and any(p["id"] == product["id"] for p in found["items"]):
        n.say(f"   buyers now find “{product['title']}” in the public catalogue.")
    else:
        n.failures += 1
        n.say("   the product is not in the public catalogue")


def _product(resource_id: str) -> dict[str, Any]:
    return {
        "title": "长春新设企业月报",
        "description": "New enterprises per district and month, delivered as CSV",
        "resource_ids": [resource_id],
        "delivery_mode": "file",
        "scenarios": ["market research"],
        "price_plan": {"kind": "one_off", "price": "800.00", "currency": "CNY"},
        "licence_template": {
            "permitted_purposes": ["commercial_analytics"],
            "scenarios": ["market research"],
            "term_days": 365,
        },
        "media_type": "text/csv",
    }
