"""Issue 18, finding 7: production shows no API docs or metrics to anyone who asks, sends the
security headers (HSTS among them), and no answer carrying a credential may be cached."""

from __future__ import annotations

import base64
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from market.app import create_app
from tests.api.conftest import TEST_JWT_SECRET, TEST_SIGNING_KEY
from tests.api.factories import PASSWORD, Api


@asynccontextmanager
async def production(app: Any, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A production-mode app on the test database."""
    test_settings = app.state.settings
    prod = create_app(
        type(test_settings)(
            mode="production",
            database_url=test_settings.database_url,
            data_dir=test_settings.data_dir,
            jwt_secret=TEST_JWT_SECRET,
            signing_key=TEST_SIGNING_KEY,
            root_secret=base64.b64encode(secrets.token_bytes(32)).decode(),
            log_json=False,
            **settings,
        )
    )
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=prod), base_url="https://x") as c:
            yield c
    finally:
        await prod.state.engine.dispose()


async def test_production_serves_no_docs_and_no_open_metrics(app: Any) -> None:
    async with production(app) as client:
        for path in ("/docs", "/redoc", "/openapi.json", "/metrics"):
            r = await client.get(path)
            assert r.status_code == 404, (path, r.status_code)
        health = await client.get("/healthz")
        assert health.headers["strict-transport-security"].startswith("max-age=")
        assert health.headers["x-content-type-options"] == "nosniff"
        assert health.headers["x-frame-options"] == "DENY"


async def test_production_docs_for_staff_and_metrics_behind_a_token(api: Api, app: Any) -> None:
    seller = await api.org()
    operator_email = "docs-operator@exchange.example.cn"
    from market.participants import service
    from market.participants.schemas import StaffCreate

    async with app.state.sessionmaker() as session, session.begin():
        await service.create_staff(
            session,
            StaffCreate(email=operator_email, password=PASSWORD, display_name="o", role="operator"),
            actor="test",
        )
    token = secrets.token_urlsafe(24)
    async with production(app, api_docs="staff", metrics_token=token) as client:

        async def bearer(email: str) -> dict[str, str]:
            r = await client.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
            assert r.status_code == 200, r.text
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        assert (await client.get("/openapi.json")).status_code == 401
        assert (await client.get("/openapi.json", headers=await bearer(seller.email))).status_code == 403
        staff = await bearer(operator_email)
        document = await client.get("/openapi.json", headers=staff)
        assert document.status_code == 200 and document.json()["openapi"]
        assert (await client.get("/docs", headers=staff)).status_code == 200
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        metrics = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert metrics.status_code == 200 and "market_http_requests_total" in metrics.text


async def test_credential_answers_are_not_stored_and_headers_are_sent(api: Api, client: Any) -> None:
    seller = await api.org()
    r = await client.post("/v1/auth/token", data={"username": seller.email, "password": PASSWORD})
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in r.headers  # embedded / test: no TLS to insist on
    me = await client.get("/v1/auth/me", headers=seller.headers)
    assert me.headers["cache-control"] == "no-store"
    key = await client.post("/v1/api-keys", json={"name": "k", "roles": ["seller"]}, headers=seller.headers)
    assert key.headers["cache-control"] == "no-store"
    docs = await client.get("/docs")
    assert docs.status_code == 200  # outside production the docs are public by default
