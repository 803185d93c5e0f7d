"""The quote and the order read their caller, session and `Idempotency-Key` in one dependency
(market.orders.buyer_call, issue 21). What a client sees is what it saw when each was a
dependency or header parameter of its own: a malformed key is a 422 naming the header (and the
body's errors with it), with nothing kept; no credentials is a 401 before any other refusal;
the OpenAPI document still names the credentials and the header."""

from __future__ import annotations

from typing import Any

import pytest

from market.app import create_app
from market.audit.models import AuditEntry
from market.compliance.models import ComplianceDecisionRow
from market.orders.models import Order, Quote
from tests.api.factories import Api, row_count
from tests.api.prepaid_factories import funded_buyer, quotable_product, quote, quote_request

TABLES = (Quote, Order, ComplianceDecisionRow, AuditEntry)


async def _counts(api: Api) -> list[int]:
    return [await row_count(api.app, table) for table in TABLES]


def _names_the_key(r: Any, reason: str) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    errors = r.json()["errors"]
    assert [e["field"] for e in errors] == ["header.Idempotency-Key"], errors
    assert reason in errors[0]["reason"], errors


@pytest.mark.parametrize("sent", ["short", "k" * 201])
async def test_a_malformed_key_is_refused_naming_the_header_and_nothing_is_kept(api: Api, sent: str) -> None:
    operator = await api.staff("operator")
    product_id = await quotable_product(api, await api.org(roles=("seller",)))
    buyer, _ = await funded_buyer(api, operator, 100_000)
    quoted = await quote(api, buyer, product_id)
    before = await _counts(api)
    reason = "at least 8" if len(sent) < 8 else "at most 200"

    headers = {**buyer.headers, "Idempotency-Key": sent}
    _names_the_key(
        await api.client.post("/v1/quotes", headers=headers, json=quote_request(product_id)), reason
    )
    order = {"quote_id": quoted["id"], "payment_method": "account"}
    _names_the_key(await api.client.post("/v1/orders", headers=headers, json=order), reason)

    assert await _counts(api) == before
    fine = await api.client.post(
        "/v1/orders", headers={**buyer.headers, "Idempotency-Key": "k" * 200}, json=order
    )
    assert fine.status_code == 201 and fine.json()["status"] == "delivered", fine.text


async def test_a_malformed_key_and_an_invalid_body_are_named_together(api: Api) -> None:
    """As FastAPI names a header parameter's errors with the body's: the client fixes both at once."""
    buyer = await api.org(roles=("buyer",))
    before = await _counts(api)
    headers = {**buyer.headers, "Idempotency-Key": "short"}
    for path, body, field in (
        ("/v1/quotes", {"product_id": "not-a-uuid"}, "body.product_id"),
        ("/v1/orders", {"quote_id": "not-a-uuid", "payment_method": "account"}, "body.quote_id"),
    ):
        r = await api.client.post(path, headers=headers, json=body)
        assert r.status_code == 422, r.text
        fields = [e["field"] for e in r.json()["errors"]]
        assert fields[0] == "header.Idempotency-Key" and field in fields, fields
        assert "at least 8" in r.json()["errors"][0]["reason"]
    assert await _counts(api) == before


async def test_no_credentials_is_a_401_before_a_malformed_key_or_body(api: Api) -> None:
    for path in ("/v1/quotes", "/v1/orders"):
        r = await api.client.post(path, headers={"Idempotency-Key": "short"}, json={"nonsense": 1})
        assert r.status_code == 401, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.headers["www-authenticate"].lower().startswith("bearer")


def test_the_document_names_the_credentials_and_the_key() -> None:
    paths = create_app().openapi()["paths"]
    signed_in = paths["/v1/orders"]["get"]["security"]  # a route taking its caller as a dependency
    for path, required in (("/v1/quotes", False), ("/v1/orders", True)):
        operation = paths[path]["post"]
        assert operation["security"] == signed_in
        (header,) = [p for p in operation["parameters"] if p["in"] == "header"]
        assert header["name"] == "Idempotency-Key" and header["required"] is required
        assert header["schema"] == {"type": "string", "minLength": 8, "maxLength": 200}
        assert "requestBody" in operation
