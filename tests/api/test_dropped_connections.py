"""No pre-ping: a pooled connection that a database restart killed fails on its first use, and
the request runs again, once, on a fresh connection, before anything is answered. The client
never sees the restart (tested by restarting a private PostgreSQL)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from pathlib import Path

import httpx
import pytest

from market.app import create_app
from market.common import clock
from market.db.migrate import upgrade
from tests.api import conftest as api_conftest
from tests.api.factories import Api
from tests.api.prepaid_factories import balance, funded_buyer, quotable_product
from tests.api.private_postgres import PrivatePostgres, PrivatePostgresUnavailable, private_postgres


async def test_a_connection_dead_in_the_pool_is_replaced_before_anything_is_answered() -> None:
    try:
        with private_postgres() as server:
            await _restart_between_requests(server)
    except PrivatePostgresUnavailable as exc:
        pytest.skip(str(exc))


async def _restart_between_requests(server: PrivatePostgres) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="market-dropped-"))
    await asyncio.to_thread(upgrade, server.url)
    app = create_app(api_conftest.test_settings(server.url, data_dir))
    clock.reset()
    assert app.state.engine.sync_engine.pool._pre_ping is False  # the point of the exercise
    try:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            api = Api(client, app)
            operator = await api.staff("operator")
            product_id = await quotable_product(api, await api.org())
            buyer, account_id = await funded_buyer(api, operator, 50_000)
            assert await balance(api, buyer, account_id) == 50_000  # the pool holds connections

            await asyncio.to_thread(server.stop, "fast")
            await asyncio.to_thread(server.start)

            # The first request after the restart takes a dead connection from the pool; it is
            # run again (its body replayed) and answered as if nothing had happened.
            quote = await client.post(
                "/v1/quotes",
                json={
                    "product_id": product_id,
                    "quantity": 1,
                    "purpose": "risk_control",
                    "scenario": "credit risk scoring",
                },
                headers=buyer.headers,
            )
            assert quote.status_code == 201, quote.text
            order = await client.post(
                "/v1/orders",
                json={"quote_id": quote.json()["id"], "payment_method": "account"},
                headers={**buyer.headers, "Idempotency-Key": f"after-restart-{uuid.uuid4().hex}"},
            )
            assert order.status_code == 201, order.text
            assert order.json()["status"] == "delivered"
            assert await balance(api, buyer, account_id) == 50_000 - quote.json()["total_minor"]
    finally:
        await app.state.engine.dispose()
        shutil.rmtree(data_dir, ignore_errors=True)
