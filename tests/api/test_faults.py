"""Faults mid-order: the order is whole or absent, and the audit log agrees with the data."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

from market.audit.models import AuditEntry
from market.catalog.models import Product
from market.orders.models import Order
from market.payments.provider import OfflineProvider, ProviderPayment
from tests.api import runtime_swaps as swaps
from tests.api.compliance_factories import listed_product
from tests.api.factories import Api
from tests.api.orders_factories import sealed_quote


class FailingProvider(OfflineProvider):
    """The payment provider's network drops after the order row and its audit entry exist."""

    async def create_payment(self, **kwargs: Any) -> ProviderPayment:
        raise ConnectionError("connection to the payment provider reset")


async def test_provider_failure_mid_order_leaves_nothing_behind(api: Api, client: Any, app: Any) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    product = await listed_product(app, seller.participant_id)
    quote = await sealed_quote(app, product["product_id"], buyer.participant_id)
    async with app.state.sessionmaker() as s:
        entries_before = await s.scalar(select(func.count()).select_from(AuditEntry))
    # As a real client sees it: whatever the server answers, it does not raise into the caller.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with swaps.payment_provider(app, FailingProvider()):
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as real_client:
            failed = await real_client.post(
                "/v1/orders",
                json={"quote_id": quote},
                headers={**buyer.headers, "Idempotency-Key": "fault-0001-order"},
            )
    assert failed.status_code == 503, failed.text
    assert failed.headers["content-type"] == "application/problem+json"
    assert failed.json()["type"].endswith("/payment-provider-unavailable")
    assert failed.headers["Retry-After"]
    async with app.state.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Order)) == 0
        assert await s.scalar(select(func.count()).select_from(AuditEntry)) == entries_before
        row = await s.get(Product, uuid.UUID(product["product_id"]))
        assert row is not None and row.sold_count == 0
    # The same key and quote work once the provider is back: nothing half-done blocks the retry.
    retry = await client.post(
        "/v1/orders",
        json={"quote_id": quote},
        headers={**buyer.headers, "Idempotency-Key": "fault-0001-order"},
    )
    assert retry.status_code == 201, retry.text
