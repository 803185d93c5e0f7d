"""An API product with an upstream, bought through the real quote, order and payment routes, and
an upstream the tests control (an httpx MockTransport behind the gateway's client port)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from market.catalog.models import Product
from market.gateway.proxy import GATEWAY, UPSTREAM_CLIENT
from tests.api import runtime_swaps
from tests.api.compliance_factories import listed_product
from tests.api.factories import Api, Party
from tests.api.settlement_factories import key

UPSTREAM_SECRET = "sk-upstream-7e1f-NEVER-SHOWN"
PER_CALL = {"kind": "fixed", "unit_price": "2.00", "unit": "per_call", "currency": "CNY", "plan_version": 1}


@dataclass
class Upstream:
    """What the fake upstream received, and what it answers (`answer` may be swapped)."""

    seen: list[httpx.Request] = field(default_factory=list)
    answer: Callable[[httpx.Request], httpx.Response] = lambda request: httpx.Response(
        200, json={"rate": "3.45", "path": request.url.path, "query": request.url.query.decode()}
    )

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return self.answer(request)


@contextmanager
def fake_upstream(app: Any) -> Iterator[Upstream]:
    upstream = Upstream()
    client = httpx.AsyncClient(transport=httpx.MockTransport(upstream.handle))
    with runtime_swaps.port(app, UPSTREAM_CLIENT, client):
        yield upstream


@dataclass
class Bought:
    seller: Party
    buyer: Party
    operator: dict[str, str]
    product_id: str
    order_id: str
    licence_id: str
    credential: str

    @property
    def auth(self) -> dict[str, str]:
        return {"X-Delivery-Credential": self.credential}


async def api_product(
    api: Api,
    seller: Party,
    *,
    plan: dict[str, Any] | None = None,
    upstream: dict[str, Any] | None = None,
    **template: Any,
) -> str:
    """A listed API product of `seller` (a per-call plan by default) with its upstream set."""
    product_id = (await listed_product(api.app, seller.participant_id))["product_id"]
    async with api.app.state.sessionmaker() as session, session.begin():
        row = await session.get(Product, uuid.UUID(product_id))
        assert row is not None
        row.price_plan = plan or PER_CALL
        row.licence_template = {**row.licence_template, **template}
    body = {
        "base_url": "http://upstream.example/api",
        "auth_header": "X-Api-Key",
        "auth_secret": UPSTREAM_SECRET,
        "allowed_methods": ["GET", "POST"],
        "allowed_path_prefixes": ["/rates", "/echo"],
        **(upstream or {}),
    }
    r = await api.client.put(f"/v1/products/{product_id}/upstream", json=body, headers=seller.headers)
    assert r.status_code == 200, r.text
    return product_id


async def buy(
    api: Api, buyer: Party, operator: dict[str, str], product_id: str, quantity: int
) -> dict[str, str]:
    """Quote, order and pay `quantity` units; the paid order and its licence's credential."""
    client = api.client
    quote = await client.post(
        "/v1/quotes",
        headers=buyer.headers,
        json={
            "product_id": product_id,
            "quantity": quantity,
            "purpose": "risk_control",
            "scenario": "credit risk scoring",
        },
    )
    assert quote.status_code == 201, quote.text
    order = await client.post(
        "/v1/orders", json={"quote_id": quote.json()["id"]}, headers={**buyer.headers, **key("order")}
    )
    assert order.status_code == 201, order.text
    paid = await client.post(f"/v1/payments/{order.json()['id']}/confirmation", headers=operator)
    assert paid.status_code == 200 and paid.json()["status"] == "delivered", paid.text
    licence_id = paid.json()["licence_id"]
    delivery = await client.get(f"/v1/deliveries/{licence_id}", headers=buyer.headers)
    assert delivery.status_code == 200, delivery.text
    return {
        "order_id": order.json()["id"],
        "licence_id": licence_id,
        "credential": delivery.json()["access_credential"],
    }


async def bought_api(
    api: Api,
    *,
    quantity: int = 5,
    plan: dict[str, Any] | None = None,
    upstream: dict[str, Any] | None = None,
    **template: Any,
) -> Bought:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    product_id = await api_product(api, seller, plan=plan, upstream=upstream, **template)
    got = await buy(api, buyer, operator, product_id, quantity)
    return Bought(seller, buyer, operator, product_id, got["order_id"], got["licence_id"], got["credential"])


async def flush(app: Any) -> None:
    """What the gateway's periodic flush does every second (no lifespan runs under tests)."""
    await app.state.runtime.port(GATEWAY).meter.flush()
