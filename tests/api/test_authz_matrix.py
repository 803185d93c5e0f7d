"""Authorisation matrix generated from the app's routes: no endpoint escapes it.

Every route the application serves must be named in ROUTES with its audience. A new endpoint
that is not classified fails `test_every_route_is_classified` by name, so whoever adds it has to
decide who may call it. Then one world is built (tenants A and B with a registered resource, a
listed product, a quote, a paid order and a licence each; staff) and every route with a path
parameter is called as tenant B with tenant A's ids: the answer must be 403 or 404 and must not
carry A's data. Every non-public route must answer 401 without credentials.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from market.app import create_app
from market.notifications.delivery import sequence_events
from market.notifications.models import WebhookDelivery
from tests.api.compliance_factories import operating_right
from tests.api.compliance_factories import registered_resource as inserted_resource
from tests.api.factories import Api, Party
from tests.api.orders_factories import bought
from tests.api.privacy_factories import consent_record, person
from tests.api.registry_factories import CHECKLIST, holding_grant_id, registered_resource
from tests.api.test_catalog_products import GUIDED, product_body

SECRET_TITLE = "TENANT-A-CONFIDENTIAL-7f3c"

# Who may call each route. "public": anyone, no credentials; "tenant": an authenticated
# participant, limited to their own objects; "staff": operator/auditor/price authority only;
# "credential": a delivery credential instead of a login.
ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/openapi.json"): "public",
    ("GET", "/docs"): "public",
    ("GET", "/docs/oauth2-redirect"): "public",
    ("GET", "/redoc"): "public",
    ("GET", "/healthz"): "public",
    ("GET", "/readyz"): "public",
    ("GET", "/metrics"): "public",
    ("POST", "/v1/participants"): "public",  # sign-up
    ("POST", "/v1/auth/token"): "public",  # log-in
    ("GET", "/v1/participants/{participant_id}"): "tenant",
    ("PATCH", "/v1/participants/{participant_id}/credit"): "staff",
    ("POST", "/v1/api-keys"): "tenant",
    ("GET", "/v1/api-keys"): "tenant",
    ("DELETE", "/v1/api-keys/{key_id}"): "tenant",
    ("GET", "/v1/auth/me"): "tenant",
    ("POST", "/v1/participants/{participant_id}/verification"): "staff",
    ("GET", "/v1/participant-verifications"): "staff",
    ("POST", "/v1/auth/refresh"): "public",  # the refresh token is the credential
    ("POST", "/v1/auth/logout"): "tenant",
    ("POST", "/v1/auth/password"): "tenant",
    ("POST", "/v1/price-catalogue"): "staff",
    ("POST", "/v1/price-catalogue/{entry_key}/versions"): "staff",
    ("POST", "/v1/price-catalogue/{entry_key}/withdrawal"): "staff",
    ("GET", "/v1/price-catalogue"): "public",  # guided prices are published (Art. 44)
    ("GET", "/v1/price-catalogue/{entry_key}"): "public",
    ("PUT", "/v1/resources/{resource_id}/price-class"): "staff",  # never the seller (Art. 65)
    ("POST", "/v1/allocations"): "staff",
    ("GET", "/v1/allocations"): "public",  # anyone recomputes a draw (Art. 70)
    ("GET", "/v1/allocations/{draw_id}"): "public",
    ("POST", "/v1/allocations/{draw_id}/entries"): "tenant",
    ("POST", "/v1/allocations/{draw_id}/reveal"): "staff",
    ("PUT", "/v1/revenue-caps/{product_id}/{year}"): "staff",
    ("GET", "/v1/revenue-caps/{product_id}/{year}"): "staff",
    ("GET", "/v1/disclosures/fees"): "public",  # operators display their fees (65号)
    ("GET", "/v1/disclosures/annual/{year}"): "public",
    ("POST", "/v1/products"): "tenant",
    ("GET", "/v1/products"): "tenant",
    ("GET", "/v1/products/{product_id}"): "public",  # listed products are public
    ("GET", "/v1/products/{product_id}/offer"): "public",  # a listed product's ODRL offer
    ("GET", "/ns/market"): "public",  # the exchange's vocabulary
    ("GET", "/ns/market/context.jsonld"): "public",
    ("PATCH", "/v1/products/{product_id}"): "tenant",
    ("POST", "/v1/products/{product_id}/listing"): "tenant",
    ("POST", "/v1/listings/{product_id}/decision"): "staff",
    ("GET", "/v1/catalog"): "public",
    ("GET", "/v1/catalog.jsonld"): "public",
    ("POST", "/v1/quotes"): "tenant",
    ("GET", "/v1/quotes/{quote_id}"): "tenant",
    ("GET", "/v1/products/{product_id}/fairness"): "staff",
    ("POST", "/v1/compliance/checks"): "tenant",
    ("GET", "/v1/compliance/decisions"): "staff",
    ("GET", "/v1/compliance/reviews"): "staff",
    ("GET", "/v1/compliance/decisions/{decision_id}"): "staff",
    ("POST", "/v1/compliance/mandates"): "staff",
    ("POST", "/v1/compliance/open-applications"): "tenant",
    ("POST", "/v1/compliance/open-applications/{application_id}/decision"): "staff",
    ("POST", "/v1/compliance/security-assessments"): "staff",
    ("POST", "/v1/orders"): "tenant",
    ("GET", "/v1/orders/{order_id}"): "tenant",
    ("GET", "/v1/orders"): "tenant",
    ("POST", "/v1/orders/{order_id}/cancellation"): "tenant",
    ("POST", "/v1/orders/{order_id}/completion"): "tenant",
    ("POST", "/v1/orders/{order_id}/review"): "staff",
    ("POST", "/v1/orders/{order_id}/refund"): "tenant",
    ("POST", "/v1/payments/{order_id}/confirmation"): "staff",
    ("GET", "/v1/orders/{order_id}/ledger"): "tenant",
    ("POST", "/v1/payments/stripe/webhook"): "public",  # authenticated by its signature
    ("POST", "/v1/accounts"): "staff",  # an operator enables prepaid buying
    ("GET", "/v1/accounts"): "tenant",
    ("GET", "/v1/accounts/{account_id}"): "tenant",
    ("GET", "/v1/accounts/{account_id}/statement"): "tenant",
    ("POST", "/v1/accounts/{account_id}/top-ups"): "tenant",
    ("POST", "/v1/top-ups/{top_up_id}/confirmation"): "staff",
    ("GET", "/v1/licences/{licence_id}"): "tenant",
    ("GET", "/v1/licences/{licence_id}/odrl"): "tenant",
    ("GET", "/v1/deliveries/{licence_id}"): "tenant",
    ("POST", "/v1/deliveries/{licence_id}/usage"): "credential",
    ("GET", "/v1/deliveries/{licence_id}/usage"): "tenant",  # the licence's buyer and seller
    ("PUT", "/v1/products/{product_id}/upstream"): "tenant",  # the product's seller
    ("GET", "/v1/products/{product_id}/upstream"): "tenant",
    **{
        (m, "/gateway/{product_id}/{path:path}"): "credential"
        for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
    },
    ("POST", "/v1/resources"): "tenant",
    ("GET", "/v1/resources"): "tenant",
    ("GET", "/v1/resources/{resource_id}"): "tenant",
    ("PUT", "/v1/resources/{resource_id}/sample"): "tenant",
    ("POST", "/v1/resources/{resource_id}/revisions"): "tenant",
    ("GET", "/v1/resources/{resource_id}/revisions"): "tenant",
    ("GET", "/v1/resources/{resource_id}/revisions/{revision_id}"): "tenant",
    ("GET", "/v1/resources/{resource_id}/revisions/{revision_id}/manifest"): "tenant",
    ("PUT", "/v1/resources/{resource_id}/revisions/{revision_id}/files"): "tenant",
    ("POST", "/v1/resources/{resource_id}/revisions/{revision_id}/finalise"): "tenant",
    ("GET", "/v1/deliveries/{licence_id}/files"): "tenant",
    # The buyer's credentials, or a signed URL instead (without either: 401).
    ("GET", "/v1/deliveries/{licence_id}/files/{file_id}"): "tenant",
    ("POST", "/v1/deliveries/{licence_id}/files/{file_id}/signed-url"): "tenant",
    ("POST", "/v1/registrations"): "tenant",
    ("POST", "/v1/registrations/finalise-due"): "staff",
    ("GET", "/v1/admin/clock"): "staff",
    ("POST", "/v1/admin/clock/advance"): "staff",
    ("GET", "/v1/registrations/{registration_id}"): "tenant",
    ("POST", "/v1/registrations/{registration_id}/decision"): "staff",
    ("POST", "/v1/registrations/{registration_id}/objections"): "tenant",
    ("POST", "/v1/objections/{objection_id}/resolution"): "staff",
    ("GET", "/v1/objections"): "staff",
    ("POST", "/v1/registrations/{registration_id}/changes"): "tenant",
    ("POST", "/v1/registrations/{registration_id}/transfer"): "tenant",
    ("POST", "/v1/registrations/{registration_id}/cancellation"): "tenant",
    ("GET", "/v1/registry/{registration_number}"): "public",  # the public register (Art. 62)
    ("GET", "/v1/holidays"): "public",
    ("POST", "/v1/holidays"): "staff",
    ("GET", "/v1/holidays/years"): "public",
    ("POST", "/v1/holidays/years"): "staff",
    ("POST", "/v1/grants"): "tenant",
    ("GET", "/v1/grants/{grant_id}"): "tenant",
    ("GET", "/v1/grants/{grant_id}/odrl"): "tenant",
    ("POST", "/v1/grants/{grant_id}/revocation"): "tenant",
    ("GET", "/v1/resources/{resource_id}/rights"): "tenant",
    ("GET", "/v1/audit/tree-head"): "public",  # anyone may check the log's signed head
    ("GET", "/v1/audit/proofs/inclusion"): "tenant",
    ("GET", "/v1/audit/proofs/consistency"): "public",
    ("GET", "/v1/audit/entries"): "staff",
    ("GET", "/v1/audit/trades/{order_id}"): "staff",
    ("GET", "/v1/audit/export"): "staff",
    ("GET", "/checkpoint"): "public",  # the log's signed checkpoint (c2sp.org/tlog-checkpoint)
    ("GET", "/tile/{path:path}"): "public",  # hash tiles reveal no entry
    ("GET", "/tile/entries/{path:path}"): "staff",  # the entries themselves, as the export
    ("GET", "/v1/alerts"): "staff",
    ("POST", "/v1/alerts/{alert_id}/acknowledgement"): "staff",
    ("GET", "/v1/stats"): "staff",  # market statistics for operators, auditors, price authority
    ("PATCH", "/v1/participants/{participant_id}"): "tenant",  # one's own details (PIPL Art. 46)
    ("DELETE", "/v1/resources/{resource_id}"): "tenant",
    ("POST", "/v1/resources/{resource_id}/consent-records"): "tenant",
    ("GET", "/v1/resources/{resource_id}/consent-records"): "tenant",
    ("GET", "/v1/resources/{resource_id}/holds"): "tenant",
    ("POST", "/v1/resources/{resource_id}/holds/{hold_id}/release"): "staff",
    # A person without an account verifies a contact by a one-time code (PIPL Art. 50).
    ("POST", "/v1/subject-requests/contact-verifications"): "public",
    ("POST", "/v1/subject-requests/contact-verifications/{verification_id}/confirmation"): "public",
    # Data-subject requests: a signed-in natural person or a requester token; sellers; operators.
    ("POST", "/v1/subject-requests"): "tenant",
    ("GET", "/v1/subject-requests"): "tenant",
    ("GET", "/v1/subject-requests/{request_id}"): "tenant",
    ("POST", "/v1/subject-requests/{request_id}/answer"): "tenant",
    ("POST", "/v1/subject-requests/{request_id}/escalation"): "tenant",
    ("POST", "/v1/subject-requests/{request_id}/decision"): "staff",
    ("GET", "/v1/licensee-obligations"): "tenant",
    ("GET", "/v1/licensee-obligations/{obligation_id}"): "tenant",
    ("POST", "/v1/licensee-obligations/{obligation_id}/acknowledgement"): "tenant",
    ("POST", "/v1/licensee-obligations/{obligation_id}/resolution"): "staff",
    ("POST", "/v1/webhook-endpoints"): "tenant",
    ("GET", "/v1/webhook-endpoints"): "tenant",
    ("GET", "/v1/webhook-endpoints/{endpoint_id}"): "tenant",
    ("DELETE", "/v1/webhook-endpoints/{endpoint_id}"): "tenant",
    ("POST", "/v1/webhook-endpoints/{endpoint_id}/enable"): "tenant",
    ("GET", "/v1/webhook-endpoints/{endpoint_id}/deliveries"): "tenant",
    ("POST", "/v1/webhook-deliveries/{delivery_id}/replay"): "tenant",
    ("GET", "/v1/events"): "tenant",  # each participant's own feed; operators the exchange's
    ("POST", "/v1/disputes"): "tenant",  # the buyer of the order named in the body
    ("GET", "/v1/disputes"): "tenant",
    ("GET", "/v1/disputes/{dispute_id}"): "tenant",
    ("POST", "/v1/disputes/{dispute_id}/response"): "tenant",  # the order's seller
    ("POST", "/v1/disputes/{dispute_id}/resolution"): "staff",
    ("GET", "/v1/payouts"): "tenant",  # a seller's own statement; staff any
    ("GET", "/v1/payouts/orders"): "tenant",
    ("POST", "/v1/payouts/transfers"): "staff",
    ("GET", "/v1/payouts/transfers"): "tenant",
}
# The console (market.console) logs in with a cookie, not a bearer token, so the probes below do
# not apply to it: tests/api/test_console.py checks its logins, roles and CSRF tokens.
CONSOLE_ROUTES = [
    ("GET", "/"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/console"),
    ("GET", "/console/catalogue"),
    ("GET", "/console/queues"),
    ("GET", "/console/registrations"),
    ("GET", "/console/registrations/{registration_id}"),
    ("POST", "/console/registrations/{registration_id}/decision"),
    ("POST", "/console/registrations/finalise-due"),
    ("POST", "/console/objections/{objection_id}/resolution"),
    ("GET", "/console/alerts"),
    ("POST", "/console/alerts/{alert_id}/acknowledgement"),
    ("GET", "/console/audit"),
    ("GET", "/console/audit/entry"),
    ("GET", "/console/audit/consistency"),
    ("GET", "/console/stats"),
    ("GET", "/console/stats.csv"),
    ("GET", "/console/price-catalogue"),
    ("POST", "/console/price-catalogue"),
    ("POST", "/console/price-catalogue/{entry_key}/withdrawal"),
    ("GET", "/console/me"),
    ("GET", "/console/me/orders/{order_id}"),
    ("GET", "/console/me/licences/{licence_id}"),
    ("GET", "/console/me/licences/{licence_id}/files/{file_id}"),
    ("GET", "/console/products/{product_id}"),
    ("POST", "/console/products/{product_id}/quote"),
    ("GET", "/console/me/quotes/{quote_id}"),
    ("POST", "/console/me/quotes/{quote_id}/order"),
    ("POST", "/console/me/api-keys"),
    ("POST", "/console/me/api-keys/{key_id}/revocation"),
    ("POST", "/console/me/webhooks"),
    ("POST", "/console/me/webhooks/{endpoint_id}/deletion"),
]
ROUTES |= dict.fromkeys(CONSOLE_ROUTES, "console")
# The operators' case pages (market/console/case_pages.py; tests/api/test_console_cases.py).
CASE_CONSOLE_ROUTES = [
    ("GET", "/console/listings"),
    ("GET", "/console/listings/{product_id}"),
    ("POST", "/console/listings/{product_id}/decision"),
    ("GET", "/console/compliance-reviews"),
    ("GET", "/console/compliance-reviews/{decision_id}"),
    ("POST", "/console/compliance-reviews/{decision_id}/decision"),
    ("GET", "/console/disputes"),
    ("GET", "/console/disputes/{dispute_id}"),
    ("POST", "/console/disputes/{dispute_id}/resolution"),
    ("GET", "/console/subject-escalations"),
    ("GET", "/console/subject-escalations/{request_id}"),
    ("POST", "/console/subject-escalations/{request_id}/decision"),
    ("GET", "/console/participant-verifications"),
    ("GET", "/console/participant-verifications/{participant_id}"),
    ("POST", "/console/participant-verifications/{participant_id}/decision"),
]
ROUTES |= dict.fromkeys(CASE_CONSOLE_ROUTES, "console")

# Cross-tenant calls that are legitimate by design, so they are left out of the matrix:
# filing an objection is open to anyone during publicity (Art. 62); reading a listed product.
CROSS_TENANT_ALLOWED = {
    ("POST", "/v1/registrations/{registration_id}/objections"),
    ("GET", "/v1/products/{product_id}"),
    # The gateway takes no login, only a licence's delivery credential: a login answers 401
    # (tests/api/test_gateway.py tries credentials of other licences and products).
    *((m, "/gateway/{product_id}/{path:path}") for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")),
}

REASON = {"reason": "cross-tenant probe"}
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/v1/accounts/{account_id}/top-ups"): {"amount_minor": 100, "method": "bank_transfer"},
    ("PATCH", "/v1/participants/{participant_id}/credit"): {
        "status": "blacklisted",
        "reason": "cross-tenant probe",
    },
    ("POST", "/v1/price-catalogue/{entry_key}/versions"): GUIDED,
    ("POST", "/v1/price-catalogue/{entry_key}/withdrawal"): REASON,
    ("PATCH", "/v1/products/{product_id}"): {"title": "hijacked"},
    ("POST", "/v1/listings/{product_id}/decision"): {"action": "delist", "reason": "probe"},
    ("POST", "/v1/compliance/open-applications/{application_id}/decision"): {
        "decision": "approve",
        "reason": "probe",
    },
    ("POST", "/v1/orders/{order_id}/cancellation"): REASON,
    ("POST", "/v1/orders/{order_id}/review"): {"approve": True, "reason": "probe"},
    ("POST", "/v1/orders/{order_id}/refund"): REASON,
    ("POST", "/v1/deliveries/{licence_id}/usage"): {"calls": 1},
    ("PUT", "/v1/products/{product_id}/upstream"): {"base_url": "http://127.0.0.1:9/hijacked"},
    ("POST", "/v1/registrations/{registration_id}/decision"): {
        "decision": "approve",
        "checklist": CHECKLIST,
    },
    ("POST", "/v1/objections/{objection_id}/resolution"): {"outcome": "upheld", "reason": "probe"},
    ("POST", "/v1/registrations/{registration_id}/changes"): REASON,
    ("POST", "/v1/registrations/{registration_id}/cancellation"): REASON,
    # Filled with the caller's own participant id: B tries to transfer A's registration to B.
    ("POST", "/v1/registrations/{registration_id}/transfer"): {
        "to_participant_id": "{caller}",
        "reason": "cross-tenant probe",
    },
    ("POST", "/v1/grants/{grant_id}/revocation"): REASON,
    ("POST", "/v1/alerts/{alert_id}/acknowledgement"): REASON,
    ("POST", "/v1/disputes/{dispute_id}/response"): {"response": "cross-tenant probe"},
    ("POST", "/v1/disputes/{dispute_id}/resolution"): {"outcome": "reject", "reason": "probe"},
    ("PATCH", "/v1/participants/{participant_id}"): {"name": "hijacked"},
    ("POST", "/v1/resources/{resource_id}/consent-records"): consent_record(10),
    ("POST", "/v1/resources/{resource_id}/holds/{hold_id}/release"): {"reason": "cross-tenant probe"},
    ("POST", "/v1/subject-requests/{request_id}/answer"): {
        "outcome": "refused",
        "response": "cross-tenant probe",
        "reasons": ["probe"],
    },
    ("POST", "/v1/subject-requests/{request_id}/escalation"): {"reason": "cross-tenant probe"},
    ("POST", "/v1/subject-requests/{request_id}/decision"): {"outcome": "dismissed", "reason": "probe"},
    ("POST", "/v1/licensee-obligations/{obligation_id}/acknowledgement"): {
        "outcome": "deleted",
        "statement": "cross-tenant probe",
    },
    ("POST", "/v1/licensee-obligations/{obligation_id}/resolution"): {
        "action": "close",
        "reason": "cross-tenant probe",
    },
}


def served_routes() -> Iterator[tuple[str, str]]:
    """(method, path) of every route, following included routers whatever FastAPI nests them in."""

    def walk(routes: Any, prefix: str) -> Iterator[tuple[str, str]]:
        for r in routes:
            if hasattr(r, "original_router"):  # FastAPI >= 0.16x keeps included routers nested
                yield from walk(r.original_router.routes, prefix + r.include_context.prefix)
            elif hasattr(r, "routes") and not getattr(r, "methods", None):
                yield from walk(r.routes, prefix + getattr(r, "path", ""))
            else:
                for method in sorted(set(getattr(r, "methods", None) or ()) - {"HEAD"}):
                    yield method, prefix + r.path

    yield from walk(create_app().routes, "")


def test_every_route_is_classified() -> None:
    served = set(served_routes())
    assert len(served) > 50, "route discovery broke: too few routes found"
    unclassified = sorted(served - set(ROUTES))
    assert not unclassified, f"routes with no authorisation class in ROUTES: {unclassified}"
    stale = sorted(set(ROUTES) - served)
    assert not stale, f"ROUTES names routes the app no longer serves: {stale}"


@dataclass
class Tenant:
    party: Party
    ids: dict[str, str] = field(default_factory=dict)


async def tenant(api: Api, app: Any, operator: dict[str, str], title: str) -> Tenant:
    """A participant with a registered resource, a listed product, a quote, a paid order, a licence,
    and its buyer's dispute over it."""
    client = api.client
    t = Tenant(await api.org())
    me = t.party
    reg = await registered_resource(api, me, operator, title=title)
    rid = reg["resource"]["id"]
    t.ids |= {
        "participant_id": me.participant_id,
        "resource_id": rid,
        "registration_id": reg["registration"]["id"],
        "registration_number": reg["registration"]["registration_number"],
        "grant_id": await holding_grant_id(api, me.headers, rid),
    }
    revision = await client.post(f"/v1/resources/{rid}/revisions", headers=me.headers)
    assert revision.status_code == 201, revision.text
    revision_path = f"/v1/resources/{rid}/revisions/{revision.json()['id']}"
    uploaded = await client.put(
        f"{revision_path}/files?name=data.csv", content=title.encode(), headers=me.headers
    )
    assert uploaded.status_code == 200, uploaded.text
    assert (await client.post(f"{revision_path}/finalise", headers=me.headers)).status_code == 200
    t.ids |= {"revision_id": revision.json()["id"], "file_id": uploaded.json()["id"]}
    for_sale = await inserted_resource(app, me.participant_id, title=title)
    made = await client.post(
        "/v1/products",
        json=product_body(for_sale["resource_id"], title=title),
        headers=me.headers,
    )
    assert made.status_code == 201, made.text
    pid = made.json()["id"]
    upstream = await client.put(
        f"/v1/products/{pid}/upstream", json={"base_url": "http://127.0.0.1:9/api"}, headers=me.headers
    )
    assert upstream.status_code == 200, upstream.text
    await operating_right(app, me.participant_id, for_sale, pid)
    assert (await client.post(f"/v1/products/{pid}/listing", headers=me.headers)).status_code == 200
    buyer = await api.org(roles=("buyer",))
    trade = await bought(client, buyer.headers, operator, pid)
    dispute = await client.post(
        "/v1/disputes",
        json={"order_id": trade["order"]["id"], "reason": "not_as_described", "description": title},
        headers=buyer.headers,
    )
    assert dispute.status_code == 201, dispute.text
    key = await client.post("/v1/api-keys", json={"name": title}, headers=me.headers)
    assert key.status_code == 201, key.text
    check = await client.post(
        "/v1/compliance/checks", json={"kind": "listing", "product_id": pid}, headers=me.headers
    )
    assert check.status_code in (200, 201), check.text
    # A person withdraws consent to what the product sells: a request against A, an obligation
    # for A's licensee (A sees it as the seller) and a hold on the resource.
    someone = await person(api)
    withdrawal = await client.post(
        "/v1/subject-requests",
        json={
            "kind": "consent_withdrawal",
            "resource_id": for_sale["resource_id"],
            "details": "I withdraw my consent",
            "subject_identifiers": title,
        },
        headers=someone.headers,
    )
    assert withdrawal.status_code == 201, withdrawal.text
    answered = await client.post(
        f"/v1/subject-requests/{withdrawal.json()['id']}/answer",
        json={"outcome": "fulfilled", "response": "removed"},
        headers=me.headers,
    )
    assert answered.status_code == 200, answered.text
    (obligation,) = (await client.get("/v1/licensee-obligations", headers=me.headers)).json()["items"]
    account = await client.post(
        "/v1/accounts",
        json={"participant_id": me.participant_id, "currency": "CNY"},
        headers={**operator, "Idempotency-Key": f"account-{uuid.uuid4().hex}"},
    )
    assert account.status_code == 201, account.text
    top_up = await client.post(
        f"/v1/accounts/{account.json()['id']}/top-ups",
        json={"amount_minor": 100, "method": "bank_transfer"},
        headers={**me.headers, "Idempotency-Key": f"top-up-{uuid.uuid4().hex}"},
    )
    assert top_up.status_code == 201, top_up.text
    hook = await client.post(
        "/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/hook"}, headers=me.headers
    )
    assert hook.status_code == 201, hook.text
    async with app.state.sessionmaker() as session, session.begin():
        await sequence_events(session)  # fans this tenant's events out to its endpoint
        delivery_id = await session.scalar(
            select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == uuid.UUID(hook.json()["id"]))
        )
    t.ids |= {
        "request_id": withdrawal.json()["id"],
        "obligation_id": obligation["id"],
        "hold_id": str(uuid.uuid4()),  # its routes are staff-only
        "verification_id": str(uuid.uuid4()),  # public routes are not probed
        "endpoint_id": hook.json()["id"],
        "delivery_id": str(delivery_id),
        "product_id": pid,
        "quote_id": trade["quote"]["id"],
        "order_id": trade["order"]["id"],
        "account_id": account.json()["id"],
        "top_up_id": top_up.json()["id"],
        "licence_id": trade["order"]["licence_id"],
        "dispute_id": dispute.json()["id"],
        "key_id": key.json()["id"],
        "decision_id": check.json().get("id") or str(uuid.uuid4()),
        # No cheap real object exists for these; their routes are staff-only, so the role
        # check answers before any lookup and a fresh id is as good a probe as any.
        "objection_id": str(uuid.uuid4()),
        "application_id": str(uuid.uuid4()),
        "alert_id": str(uuid.uuid4()),
        "draw_id": str(uuid.uuid4()),  # draws are public; entering one is anyone's
        "year": "2026",
        "entry_key": str(GUIDED["entry_key"]),
    }
    return t


def fill(path: str, ids: dict[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        assert name in ids, f"{path}: no id of kind {name!r} in the matrix; add one to tenant()"
        return ids[name]

    return re.sub(r"\{([a-z_]+)\}", sub, path)


async def call(
    client: Any, method: str, path: str, url: str, headers: dict[str, str], caller: str = ""
) -> Any:
    if method == "PUT" and (method, path) not in BODIES:
        return await client.put(url, content=b"id\n1\n", headers=headers)
    body = BODIES.get((method, path))
    if isinstance(body, dict):
        body = {k: caller if v == "{caller}" else v for k, v in body.items()}
    if method == "GET" or (body is None and method == "DELETE"):
        return await client.request(method, url, headers=headers)
    return await client.request(method, url, json=body if body is not None else {}, headers=headers)


async def test_tenant_b_cannot_reach_tenant_a_objects(api: Api, client: Any, app: Any) -> None:
    operator = await api.staff("operator")
    authority = await api.staff("price_authority")
    await api.staff("auditor")
    assert (await client.post("/v1/price-catalogue", json=GUIDED, headers=authority)).status_code == 201
    a = await tenant(api, app, operator, SECRET_TITLE)
    b = await tenant(api, app, operator, "tenant B data")
    failures = []
    probed = 0
    for method, path in sorted(ROUTES):
        if "{" not in path or ROUTES[(method, path)] in ("public", "console"):
            continue
        if (method, path) in CROSS_TENANT_ALLOWED:
            continue
        url = fill(path, a.ids)
        r = await call(client, method, path, url, b.party.headers, b.party.participant_id)
        probed += 1
        leaked = SECRET_TITLE in r.text or a.party.participant_id in r.text.replace(url, "")
        if path == "/v1/participants/{participant_id}":
            leaked = SECRET_TITLE in r.text  # the id is in the URL; the body must not say more
        if r.status_code not in (403, 404) or leaked:
            failures.append(f"{method} {path} -> {r.status_code} {r.text[:200]}")
    assert probed >= 35
    assert not failures, "tenant B reached tenant A's objects:\n" + "\n".join(failures)
    # Positive control: the same URLs work for their owner, so the refusals above were about
    # ownership and not about a malformed probe.
    for method, path in sorted(ROUTES):
        if method == "GET" and ROUTES[(method, path)] == "tenant" and "{" in path:
            if "quote_id" in path or path.startswith("/v1/deliveries/"):
                continue  # quotes and deliveries are the buyer's, not tenant A's (the seller)
            own = await client.get(fill(path, a.ids), headers=a.party.headers)
            assert own.status_code == 200, f"{path} as its owner -> {own.status_code} {own.text}"


async def test_every_non_public_route_needs_credentials(client: Any) -> None:
    ids = {
        name: str(uuid.uuid4())
        for name in (
            "participant_id",
            "resource_id",
            "registration_id",
            "grant_id",
            "order_id",
            "licence_id",
            "quote_id",
            "key_id",
            "product_id",
            "objection_id",
            "decision_id",
            "application_id",
            "alert_id",
            "request_id",
            "obligation_id",
            "hold_id",
            "verification_id",
            "endpoint_id",
            "delivery_id",
            "dispute_id",
            "draw_id",
            "revision_id",
            "file_id",
            "account_id",
            "top_up_id",
        )
    }
    ids |= {"entry_key": "JL-X", "registration_number": "JLDR-2026-R-000001", "year": "2026"}
    ids["caller"] = ids["participant_id"]
    failures = []
    for (method, path), audience in sorted(ROUTES.items()):
        if audience in ("public", "credential", "console"):
            continue
        r = await call(client, method, path, fill(path, ids), {}, ids["caller"])
        if r.status_code != 401:
            failures.append(f"{method} {path} -> {r.status_code}")
    assert not failures, "answered without credentials:\n" + "\n".join(failures)
