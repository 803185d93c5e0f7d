"""Hostile input: oversized and deeply nested bodies, odd unicode, SQL-looking text, traversal
in path parameters, absurd numbers. The service answers 4xx problem+json (never 500) and stores
nothing it refused; what it accepts it returns verbatim.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from market.audit.models import AuditEntry
from market.orders.models import Quote
from market.participants.models import Participant
from market.payments.models import Refund
from market.registry.models import DataResource
from tests.api.compliance_factories import operating_right, registered_resource
from tests.api.factories import Api, row_count
from tests.api.registry_factories import resource_body
from tests.api.test_catalog_products import product_body

PROBLEM = "application/problem+json"


async def http_listed_product(api: Api, app: Any, seller: Any) -> dict[str, str]:
    resource = await registered_resource(app, seller.participant_id)
    made = await api.client.post(
        "/v1/products", json=product_body(resource["resource_id"]), headers=seller.headers
    )
    assert made.status_code == 201, made.text
    pid = made.json()["id"]
    await operating_right(app, seller.participant_id, resource, pid)
    listing = await api.client.post(f"/v1/products/{pid}/listing", headers=seller.headers)
    assert listing.status_code == 200, listing.text
    return {"product_id": pid}


def assert_problem(r: Any, *statuses: int) -> None:
    assert r.status_code in statuses, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith(PROBLEM), r.headers["content-type"]
    assert r.json()["status"] == r.status_code


async def test_body_over_one_mib_is_413_and_nothing_is_stored(api: Api, client: Any, app: Any) -> None:
    seller = await api.org()
    before_audit = await row_count(app, AuditEntry)
    huge = resource_body(description="x" * (1024 * 1024 + 10))
    r = await client.post("/v1/resources", json=huge, headers=seller.headers)
    assert_problem(r, 413)

    # Without a Content-Length (chunked) the limit still holds while the body streams in.
    raw = json.dumps(huge).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(raw), 64 * 1024):
            yield raw[i : i + 64 * 1024]

    chunked = await client.post(
        "/v1/resources",
        content=chunks(),
        headers={**seller.headers, "Content-Type": "application/json"},
    )
    assert chunked.status_code == 413
    lying = await client.post(
        "/v1/resources",
        content=b"{}",
        headers={**seller.headers, "Content-Type": "application/json", "Content-Length": "-1"},
    )
    assert 400 <= lying.status_code < 500
    assert await row_count(app, DataResource) == 0
    assert await row_count(app, AuditEntry) == before_audit


async def test_chunked_body_over_one_mib_is_413(api: Api, client: Any) -> None:
    seller = await api.org()
    raw = json.dumps(resource_body(description="x" * (1024 * 1024 + 10))).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(raw), 64 * 1024):
            yield raw[i : i + 64 * 1024]

    r = await client.post(
        "/v1/resources",
        content=chunks(),
        headers={**seller.headers, "Content-Type": "application/json"},
    )
    assert_problem(r, 413)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


async def test_deeply_nested_json_is_4xx_not_500(api: Api, client: Any, app: Any) -> None:
    seller = await api.org()
    participants = await row_count(app, Participant)
    headers = {**seller.headers, "Content-Type": "application/json"}
    for depth in (1_000, 10_000, 100_000):
        # Nested inside a free-form object field the schema accepts (data_schema: dict).
        body = json.dumps(resource_body())[:-1] + ', "data_schema": {"a": ' + nested(depth) + "}}"
        r = await client.post("/v1/resources", content=body.encode(), headers=headers)
        assert 400 <= r.status_code < 500, (depth, r.status_code, r.text[:200])
        top = await client.post("/v1/participants", content=nested(depth).encode(), headers=headers)
        assert 400 <= top.status_code < 500, (depth, top.status_code, top.text[:200])
    assert await row_count(app, DataResource) == 0
    assert await row_count(app, Participant) == participants


ODD_TITLES = {
    "rtl_override": "invoice \u202egpj.exe",
    "emoji": "数据 📊🧪👩🏽‍💻",
    "zero_width": "da\u200bta\ufeff",
    "combining": "e\u0301" * 50,
}


@pytest.mark.parametrize("case", sorted(ODD_TITLES))
async def test_odd_unicode_titles_are_refused_or_kept_verbatim(
    api: Api, client: Any, app: Any, case: str
) -> None:
    seller = await api.org()
    title = ODD_TITLES[case]
    r = await client.post("/v1/resources", json=resource_body(title=title), headers=seller.headers)
    if 400 <= r.status_code < 500:
        assert_problem(r, r.status_code)
        assert await row_count(app, DataResource) == 0
        return
    assert r.status_code == 201, (r.status_code, r.text[:300])
    got = await client.get(f"/v1/resources/{r.json()['id']}", headers=seller.headers)
    assert got.json()["title"] == title


async def test_nul_byte_in_a_title_is_refused(api: Api, client: Any, app: Any) -> None:
    seller = await api.org()
    r = await client.post("/v1/resources", json=resource_body(title="data\x00set"), headers=seller.headers)
    assert_problem(r, 422)
    assert any("NUL" in e["reason"] for e in r.json()["errors"])
    assert await row_count(app, DataResource) == 0


async def test_lone_surrogate_escape_is_refused_or_kept(api: Api, client: Any, app: Any) -> None:
    seller = await api.org()
    # A JSON text may spell a lone UTF-16 surrogate with an escape; it is not valid Unicode text.
    body = json.dumps(resource_body(title="PLACEHOLDER")).replace("PLACEHOLDER", "bad \\ud800 end")
    r = await client.post(
        "/v1/resources",
        content=body.encode(),
        headers={**seller.headers, "Content-Type": "application/json"},
    )
    assert r.status_code < 500, r.text[:300]
    if r.status_code >= 400:
        assert_problem(r, r.status_code)
        assert await row_count(app, DataResource) == 0
    else:
        got = await client.get(f"/v1/resources/{r.json()['id']}", headers=seller.headers)
        assert got.json()["title"] == "bad \ud800 end"


async def test_sql_looking_text_is_stored_verbatim_and_harmless(api: Api, client: Any, app: Any) -> None:
    evil = "Robert'); DROP TABLE participants; --"
    party = await api.org(name=evil)
    me = await client.get(f"/v1/participants/{party.participant_id}", headers=party.headers)
    assert me.status_code == 200 and me.json()["name"] == evil
    title = "x' OR '1'='1"
    r = await client.post(
        "/v1/resources",
        json=resource_body(title=title, description="1; DELETE FROM data_resources; --"),
        headers=party.headers,
    )
    assert r.status_code == 201, r.text
    mine = await client.get("/v1/resources", headers=party.headers)
    assert [i["title"] for i in mine.json()["items"]] == [title]
    other = await api.org()
    theirs = await client.get("/v1/resources", headers=other.headers)
    assert theirs.json()["items"] == []  # the quote in the title widened no filter
    assert await row_count(app, Participant) == 2


TRAVERSALS = [
    "/v1/resources/..%2F..%2Fetc%2Fpasswd",
    "/v1/resources/..%2F..%2F..%2Fv1%2Forders",
    "/v1/orders/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/v1/licences/..%5C..%5Cwindows%5Cwin.ini",
    "/v1/registry/..%2F..%2Fetc%2Fpasswd",
    "/v1/price-catalogue/..%2F..%2Fetc%2Fpasswd",
    "/v1/products/%00",
]


@pytest.mark.parametrize("path", TRAVERSALS)
async def test_path_traversal_in_path_params_is_404_or_422(api: Api, client: Any, path: str) -> None:
    seller = await api.org()
    r = await client.get(path, headers=seller.headers)
    assert r.status_code in (404, 422), (r.status_code, r.text[:200])
    assert "root:" not in r.text


async def test_negative_and_huge_numbers_are_422_and_nothing_is_stored(
    api: Api, client: Any, app: Any
) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    product = await http_listed_product(api, app, seller)
    quote = {
        "product_id": product["product_id"],
        "purpose": "risk_control",
        "scenario": "credit risk scoring",
    }
    for quantity in (-1, 0, 10**30, -(10**30), 1.5, 1e308, "NaN", "1e9999"):
        r = await client.post("/v1/quotes", json={**quote, "quantity": quantity}, headers=buyer.headers)
        assert_problem(r, 422)
        assert any("quantity" in e.get("field", json.dumps(e)) for e in r.json()["errors"]), r.text
    raw = json.dumps({**quote, "quantity": 1}).replace('"quantity": 1', '"quantity": Infinity')
    inf = await client.post(
        "/v1/quotes",
        content=raw.encode(),
        headers={**buyer.headers, "Content-Type": "application/json"},
    )
    assert 400 <= inf.status_code < 500, inf.text[:200]
    assert await row_count(app, Quote) == 0
    operator = await api.staff("operator")
    made = await client.post("/v1/quotes", json={**quote, "quantity": 1}, headers=buyer.headers)
    order = await client.post(
        "/v1/orders",
        json={"quote_id": made.json()["id"]},
        headers={**buyer.headers, "Idempotency-Key": "abuse-order-1"},
    )
    assert order.status_code == 201, order.text
    oid = order.json()["id"]
    paid = await client.post(f"/v1/payments/{oid}/confirmation", headers=operator)
    assert paid.status_code == 200, paid.text
    for amount in (-5, 0, 10**30, 2**63, 1.5, "1e3"):
        refund = await client.post(
            f"/v1/orders/{oid}/refund",
            json={"reason": "abuse probe", "amount_minor": amount},
            headers={**operator, "Idempotency-Key": f"abuse-refund-{amount}"},
        )
        assert refund.status_code < 500, (amount, refund.text[:200])
        assert_problem(refund, 409, 422)  # 409: more than was paid
    usage = await client.post(
        f"/v1/deliveries/{paid.json()['licence_id']}/usage",
        json={"calls": -1},
        headers={"X-Delivery-Credential": "x"},
    )
    assert 400 <= usage.status_code < 500
    assert await row_count(app, Refund) == 0


async def test_boolean_quantity_is_422(api: Api, client: Any, app: Any) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    product = await http_listed_product(api, app, seller)
    r = await client.post(
        "/v1/quotes",
        json={
            "product_id": product["product_id"],
            "purpose": "risk_control",
            "scenario": "credit risk scoring",
            "quantity": True,
        },
        headers=buyer.headers,
    )
    assert_problem(r, 422)
