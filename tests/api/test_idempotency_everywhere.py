"""`Idempotency-Key` on every POST that creates something (api.md), checked from the route table.

The first half is generated from the app's routes: every served POST whose success status is 201
must declare the optional `Idempotency-Key` header in the OpenAPI document, so a new creating
endpoint cannot ship without it. The second half sends the same key twice, and then with another
body, to a sample of the endpoints: one object and one stored response; the replay equals the
first answer; another body is refused with 422 and stores nothing.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from market.app import create_app
from market.auth.models import ApiKey
from market.catalog.models import PriceCatalogueEntryRow
from market.idempotency.models import IdempotencyRecord
from market.registry.models import CalendarDay, CalendarYear, DataResource, Objection, Registration
from market.rights.models import RightGrantRow
from tests.api.factories import Api, row_count
from tests.api.registry_factories import (
    CHECKLIST,
    holding_grant_id,
    registered_resource,
    resource_body,
    resource_with_sample,
)
from tests.api.test_authz_matrix import served_routes
from tests.api.test_catalog_products import GUIDED

HEADER = "Idempotency-Key"

# Creating POSTs (201) that need not take the header, each with the reason. Empty for now: every
# creation so far is one a client may have to retry. Write the reason before adding one.
EXEMPT: dict[str, str] = {}


def _creating_posts() -> list[str]:
    """Paths of the served POST routes whose documented success status is 201."""
    doc = create_app().openapi()["paths"]
    return sorted(
        path
        for method, path in served_routes()
        if method == "POST" and "201" in doc.get(path, {}).get("post", {}).get("responses", {})
    )


CREATING_POSTS = _creating_posts()


def _declared_headers(path: str) -> dict[str, dict[str, Any]]:
    operation = create_app().openapi()["paths"][path]["post"]
    return {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}


def test_every_served_post_is_in_the_openapi_document() -> None:
    """A POST hidden from the document would escape the check below."""
    doc = create_app().openapi()["paths"]
    # The document names a converted parameter without its converter: {path:path} is {path}.
    # The console's forms are pages, not API (CSRF-protected, outside the document by design).
    posts = {
        re.sub(r"\{(\w+):\w+\}", r"{\1}", path)
        for method, path in served_routes()
        if method == "POST" and not path.startswith("/console") and path not in ("/login", "/logout")
    }
    assert len(posts) > 30, "route discovery broke: too few POST routes found"
    assert sorted(p for p in posts if "post" not in doc.get(p, {})) == []


def test_the_creating_posts_are_found_and_the_exemptions_are_current() -> None:
    known = {
        "/v1/participants",
        "/v1/resources",
        "/v1/registrations",
        "/v1/registrations/{registration_id}/objections",
        "/v1/grants",
        "/v1/api-keys",
        "/v1/price-catalogue",
        "/v1/orders",
        "/v1/orders/{order_id}/refund",
    }
    assert known <= set(CREATING_POSTS), sorted(known - set(CREATING_POSTS))
    assert "/v1/auth/token" not in CREATING_POSTS  # 200: a log-in creates nothing
    assert set(EXEMPT) <= set(CREATING_POSTS), "EXEMPT names a route that is not a creating POST"


@pytest.mark.parametrize("path", [p for p in CREATING_POSTS if p not in EXEMPT])
def test_creating_post_declares_the_idempotency_key_header(path: str) -> None:
    declared = _declared_headers(path)
    assert HEADER in declared, f"POST {path} answers 201 but does not take an {HEADER} header"


# --- behaviour -------------------------------------------------------------------------------


@dataclass
class Creation:
    """One creating request: where, as whom, a body, another body and the table it adds to."""

    url: str
    headers: dict[str, str]
    body: dict[str, Any]
    other_body: dict[str, Any]
    table: Any
    extra_headers: dict[str, str] = field(default_factory=dict)  # expected on first and replay


async def _in_publicity(api: Api) -> tuple[dict[str, Any], Any]:
    """A registration in its publicity period, and its applicant."""
    seller, operator = await api.org(), await api.staff("operator")
    resource = await resource_with_sample(api, seller)
    applied = await api.client.post(
        "/v1/registrations",
        headers=seller.headers,
        json={"resource_id": resource["id"], "rights_evidence": "own data"},
    )
    approved = await api.client.post(
        f"/v1/registrations/{applied.json()['id']}/decision",
        headers=operator,
        json={"decision": "approve", "checklist": CHECKLIST},
    )
    assert approved.status_code == 200, approved.text
    return approved.json(), seller


async def resource(api: Api) -> Creation:
    seller = await api.org()
    return Creation(
        "/v1/resources",
        seller.headers,
        resource_body(),
        resource_body(title="another resource"),
        DataResource,
    )


async def registration(api: Api) -> Creation:
    seller = await api.org()
    res = await resource_with_sample(api, seller)
    body = {"resource_id": res["id"], "rights_evidence": "own collection"}
    other = {**body, "rights_evidence": "bought under contract 2026-17"}
    return Creation("/v1/registrations", seller.headers, body, other, Registration)


async def objection(api: Api) -> Creation:
    reg, _ = await _in_publicity(api)
    rival = await api.org()
    body = {"kind": "wrong_data", "grounds": "district names are misspelt"}
    other = {"kind": "ownership_dispute", "grounds": "we collected this data ourselves"}
    return Creation(f"/v1/registrations/{reg['id']}/objections", rival.headers, body, other, Objection)


async def grant(api: Api) -> Creation:
    holder, processor = await api.org(), await api.org()
    rid = (await registered_resource(api, holder))["resource"]["id"]
    body = {
        "parent_grant_id": await holding_grant_id(api, holder.headers, rid),
        "kind": "processing",
        "holder_id": processor.participant_id,
        "subject_kind": "resource",
        "subject_id": rid,
        "purposes": ["risk_control", "commercial_analytics"],
    }
    other = {**body, "purposes": ["risk_control"]}
    return Creation("/v1/grants", holder.headers, body, other, RightGrantRow)


async def price_entry(api: Api) -> Creation:
    authority = await api.staff("price_authority")
    other = {**GUIDED, "legal_basis": "吉发改价格〔2026〕1号"}
    return Creation("/v1/price-catalogue", authority, GUIDED, other, PriceCatalogueEntryRow)


async def calendar_day(api: Api) -> Creation:
    operator = await api.staff("operator")
    body = {"day": "2027-03-08", "kind": "holiday", "name": "exchange closed"}
    return Creation("/v1/holidays", operator, body, {**body, "name": "audit day"}, CalendarDay)


async def calendar_year(api: Api) -> Creation:
    operator = await api.staff("operator")
    following = (await api.client.get("/v1/holidays/years")).json()["known_through"] + 1
    body = {"year": following, "source": f"国务院办公厅关于{following}年部分节假日安排的通知"}
    return Creation("/v1/holidays/years", operator, body, {**body, "source": "another notice"}, CalendarYear)


async def cancellation(api: Api) -> Creation:
    seller = await api.org()
    reg = (await registered_resource(api, seller))["registration"]
    return Creation(
        f"/v1/registrations/{reg['id']}/cancellation",
        seller.headers,
        {"reason": "the data is no longer collected"},
        {"reason": "sold the business"},
        Registration,
    )


CREATIONS: list[Callable[[Api], Awaitable[Creation]]] = [
    resource,
    registration,
    objection,
    grant,
    price_entry,
    calendar_day,
    calendar_year,
    cancellation,
]


@pytest.mark.parametrize("make", CREATIONS, ids=lambda f: f.__name__)
async def test_same_key_same_body_creates_once_and_replays_the_first_response(
    api: Api, client: Any, app: Any, make: Callable[[Api], Awaitable[Creation]]
) -> None:
    c = await make(api)
    headers = {**c.headers, HEADER: f"idem-{make.__name__}-0001"}
    rows, records = await row_count(app, c.table), await row_count(app, IdempotencyRecord)

    first = await client.post(c.url, json=c.body, headers=headers)
    assert first.status_code == 201, first.text
    again = await client.post(c.url, json=c.body, headers=headers)
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    for name, value in c.extra_headers.items():
        assert first.headers.get(name) == again.headers.get(name) == value
    assert await row_count(app, c.table) == rows + 1
    assert await row_count(app, IdempotencyRecord) == records + 1

    other = await client.post(c.url, json=c.other_body, headers=headers)
    assert other.status_code == 422, other.text
    assert other.headers["content-type"].startswith("application/problem+json")
    problem = other.json()
    assert problem["type"].endswith("/idempotency-key-reused")
    assert [e["field"] for e in problem["errors"]] == ["header.Idempotency-Key"]
    assert await row_count(app, c.table) == rows + 1
    assert await row_count(app, IdempotencyRecord) == records + 1


async def test_a_key_reused_on_another_registration_is_refused_not_replayed(
    api: Api, client: Any, app: Any
) -> None:
    (first_reg, _), (second_reg, _) = await _in_publicity(api), await _in_publicity(api)
    rival = await api.org()
    headers = {**rival.headers, HEADER: "objection-key-0001"}
    body = {"kind": "wrong_data", "grounds": "district names are misspelt"}
    filed = await client.post(f"/v1/registrations/{first_reg['id']}/objections", json=body, headers=headers)
    assert filed.status_code == 201, filed.text
    elsewhere = await client.post(
        f"/v1/registrations/{second_reg['id']}/objections", json=body, headers=headers
    )
    assert elsewhere.status_code == 422, elsewhere.text
    assert elsewhere.json()["type"].endswith("/idempotency-key-reused")
    async with app.state.sessionmaker() as s:
        on = list(await s.scalars(select(Objection.registration_id)))
    assert [str(r) for r in on] == [first_reg["id"]]


async def test_a_key_reused_on_another_price_entry_is_refused_not_replayed(
    api: Api, client: Any, app: Any
) -> None:
    authority = await api.staff("price_authority")
    for key in ("JL-PUB-A", "JL-PUB-B"):
        entry = {**GUIDED, "entry_key": key}
        published = await client.post("/v1/price-catalogue", json=entry, headers=authority)
        assert published.status_code == 201, published.text
    headers = {**authority, HEADER: "price-version-0001"}
    body = {**GUIDED, "entry_key": "JL-PUB-A", "effective_from": "2026-09-01T00:00:00Z"}
    v2 = await client.post("/v1/price-catalogue/JL-PUB-A/versions", json=body, headers=headers)
    assert v2.status_code == 201, v2.text
    again = await client.post("/v1/price-catalogue/JL-PUB-A/versions", json=body, headers=headers)
    assert again.status_code == 201 and again.json() == v2.json()
    # The same key and body sent to entry B: without B in the fingerprint it would replay A's v2.
    other = await client.post("/v1/price-catalogue/JL-PUB-B/versions", json=body, headers=headers)
    assert other.status_code == 422, other.text
    assert other.json()["type"].endswith("/idempotency-key-reused")
    assert [e["version"] for e in (await client.get("/v1/price-catalogue/JL-PUB-B")).json()] == [1]


async def test_a_retried_api_key_creation_never_shows_or_stores_the_secret_again(
    api: Api, client: Any, app: Any
) -> None:
    """Keys are shown once and stored hashed: a replay cannot hand the secret out a second time."""
    party = await api.org()
    headers = {**party.headers, HEADER: "api-key-create-0001"}
    first = await client.post("/v1/api-keys", json={"name": "nightly import"}, headers=headers)
    assert first.status_code == 201, first.text
    assert first.headers["cache-control"] == "no-store"
    secret, key_id = first.json()["key"], first.json()["id"]
    again = await client.post("/v1/api-keys", json={"name": "nightly import"}, headers=headers)
    assert again.status_code == 409, again.text
    problem = again.json()
    assert problem["type"].endswith("/api-key-already-created")
    assert problem["api_key_id"] == key_id and f"DELETE /v1/api-keys/{key_id}" in problem["detail"]
    assert secret not in again.text
    assert await row_count(app, ApiKey) == 1
    async with app.state.sessionmaker() as s:
        stored = list(await s.scalars(select(IdempotencyRecord.response_body)))
    assert len(stored) == 1 and secret not in stored[0] and key_id in stored[0]
    # The secret from the first answer is the one that works.
    me = await client.get("/v1/auth/me", headers={"X-API-Key": secret})
    assert me.status_code == 200, me.text
    other = await client.post("/v1/api-keys", json={"name": "another"}, headers=headers)
    assert other.status_code == 422 and other.json()["type"].endswith("/idempotency-key-reused")
