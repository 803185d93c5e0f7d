"""Issue 18, finding 3: anonymous input never makes a 5xx. NUL bytes in the path, the query, a
form and a JSON body, tampered pagination cursors, timestamps without an offset or out of range,
and malformed (but correctly signed) webhook bodies are each answered 4xx problem+json naming
what was wrong, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import stripe

from tests.api.factories import Api
from tests.api.stripe_fake import WEBHOOK_SECRET, signed_event

PROBLEM = "application/problem+json"


def assert_problem(r: Any, status: int, field: str | None = None) -> None:
    assert r.status_code == status, (r.status_code, r.text[:400])
    assert r.headers["content-type"].startswith(PROBLEM), r.headers["content-type"]
    body = r.json()
    assert body["status"] == status
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body


def cursor_of(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/catalog", {"q": "a\x00b"}, "query.q"),
        ("/v1/registry/a%00b", {}, "path"),
        ("/v1/price-catalogue/a%00b", {}, "path"),
        ("/v1/price-catalogue", {"data_class": "x\x00"}, "query.data_class"),
    ],
)
async def test_nul_in_path_or_query_is_422_naming_it(client: Any, path: str, params: Any, field: str) -> None:
    r = await client.get(path, params=params)
    assert_problem(r, 422, field)


async def test_nul_in_login_username_is_422_naming_it(client: Any) -> None:
    r = await client.post("/v1/auth/token", data={"username": "a\x00b@x.cn", "password": "whatever12345"})
    assert_problem(r, 422, "body.username")


async def test_nul_in_a_json_body_string_is_422(api: Api, client: Any) -> None:
    seller = await api.org()
    r = await client.post(
        "/v1/api-keys", json={"name": "key\x00", "roles": ["seller"]}, headers=seller.headers
    )
    assert r.status_code == 422, r.text


@pytest.mark.parametrize(
    "cursor",
    [
        cursor_of(["2099-01-01T00:00:00+00:00", "zz"]),  # an id that is no id
        cursor_of(["2099-01-01T00:00:00+00:00", "9" * 40]),  # an id beyond any column
        cursor_of(["2099-01-01T00:00:00", "00000000-0000-0000-0000-000000000000"]),  # naive time
        cursor_of(["9999-12-31T23:59:59-14:00", "00000000-0000-0000-0000-000000000000"]),
        cursor_of({"a": 1}),
        cursor_of(["2099-01-01T00:00:00+00:00", None]),
        "!!!not base64!!!",
    ],
)
async def test_tampered_cursor_is_422(api: Api, client: Any, cursor: str) -> None:
    r = await client.get("/v1/catalog", params={"cursor": cursor})
    assert_problem(r, 422, "query.cursor")
    seller = await api.org()
    own = await client.get("/v1/resources", params={"cursor": cursor}, headers=seller.headers)
    assert_problem(own, 422, "query.cursor")


@pytest.mark.parametrize(
    "since",
    ["9999-12-31T00:00:00", "9999-12-31T23:00:00-05:00", "2025-01-01T00:00:00", "0001-01-01T00:00:00+14:00"],
)
async def test_timestamps_without_offset_or_out_of_range_are_422(api: Api, client: Any, since: str) -> None:
    auditor = await api.staff("auditor")
    r = await client.get("/v1/audit/entries", params={"since": since}, headers=auditor)
    assert_problem(r, 422, "query.since")
    operator = await api.staff("operator")
    stats = await client.get("/v1/stats", params={"until": since}, headers=operator)
    assert_problem(stats, 422, "query.until")


async def test_far_future_with_an_offset_is_answered(api: Api, client: Any) -> None:
    auditor = await api.staff("auditor")
    r = await client.get("/v1/audit/entries", params={"since": "9999-12-31T00:00:00Z"}, headers=auditor)
    assert r.status_code == 200, r.text
    assert r.json()["items"] == []


def _signed(raw: str) -> tuple[bytes, dict[str, str]]:
    header = stripe.WebhookSignature.generate_signature_header(raw, WEBHOOK_SECRET)
    return raw.encode(), {"Stripe-Signature": header, "Content-Type": "application/json"}


@pytest.mark.parametrize(
    "raw",
    [
        '{"id": "evt_\\u0000", "type": "payment_intent.succeeded", "data": {"object": {}}}',
        '{"id": "evt_1", "type": "x", "data": {"object": {"k\\u0000": 1}}}',
        "[1, 2, 3]",
        '"just a string"',
        '{"id": "evt_2", "type": "payment_intent.succeeded", "data": {"object": []}}',
        '{"id": "evt_3", "type": "payment_intent.succeeded", "data": "nope"}',
        '{"id": "' + "e" * 500 + '", "type": "x", "data": {"object": {}}}',
        "{not json",
    ],
)
async def test_malformed_signed_webhook_is_400(client: Any, raw: str) -> None:
    body, headers = _signed(raw)
    r = await client.post("/v1/payments/stripe/webhook", content=body, headers=headers)
    assert_problem(r, 400)


@pytest.mark.parametrize(
    "obj",
    [
        {"id": "pi_x" * 100, "amount": 2**70},
        {"id": "pi_1", "last_payment_error": "a string, not an object"},
        {"id": {"nested": "object"}, "currency": ["cny"]},
        {"id": "pi_1", "metadata": "not a map", "amount_received": "12"},
    ],
)
async def test_odd_objects_in_a_signed_webhook_are_not_5xx(client: Any, obj: dict[str, Any]) -> None:
    for kind in ("payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded"):
        body, headers = signed_event(kind, obj, f"evt_{kind}_{len(json.dumps(obj))}")
        r = await client.post("/v1/payments/stripe/webhook", content=body, headers=headers)
        assert r.status_code < 500, (kind, r.status_code, r.text[:300])
