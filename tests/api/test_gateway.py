"""The API gateway: a buyer calls the API it bought through the exchange, within what it bought.

Issue 16: quantity 5 of a per-call plan is 5 calls, the 6th answers 429; a revoked licence 410;
the buyer's credential and hop-by-hop headers never reach the upstream, the seller's secret
never reaches anyone; an upstream in a private network is refused in production.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from market.app import create_app
from market.audit.models import AuditEntry
from market.common import clock
from market.gateway import jobs as gateway_jobs
from market.gateway.models import Upstream as UpstreamRow
from market.gateway.proxy import GATEWAY
from tests.api import runtime_swaps
from tests.api.factories import Api
from tests.api.gateway_factories import (
    UPSTREAM_SECRET,
    api_product,
    bought_api,
    fake_upstream,
    flush,
)
from tests.api.jobs import run
from tests.api.settlement_factories import key
from tests.api.upstream_server import CHUNK, served_upstream


async def test_quantity_five_allows_exactly_five_calls_and_the_sixth_answers_429(
    api: Api, client: Any, app: Any
) -> None:
    b = await bought_api(api, quantity=5)
    delivery = (await client.get(f"/v1/deliveries/{b.licence_id}", headers=b.buyer.headers)).json()
    assert delivery["call_quota"] == 5  # what was bought, not the template's
    with fake_upstream(app) as upstream:
        for n in range(5):
            r = await client.get(f"/gateway/{b.product_id}/rates/cny?day={n}", headers=b.auth)
            assert r.status_code == 200, r.text
            assert r.json() == {"rate": "3.45", "path": "/api/rates/cny", "query": f"day={n}"}
        sixth = await client.get(f"/gateway/{b.product_id}/rates/cny", headers=b.auth)
    assert sixth.status_code == 429, sixth.text
    assert sixth.headers["content-type"].startswith("application/problem+json")
    assert sixth.json()["type"].endswith("/quota-exceeded") and sixth.json()["remaining"] == 0
    assert len(upstream.seen) == 5
    await flush(app)
    for party in (b.buyer, b.seller):
        usage = (await client.get(f"/v1/deliveries/{b.licence_id}/usage", headers=party.headers)).json()
        assert (usage["call_quota"], usage["calls_used"]) == (5, 5)
        assert [(d["calls"], d["failed_calls"]) for d in usage["days"]] == [(5, 0)]
    stranger = await api.org()
    assert (
        await client.get(f"/v1/deliveries/{b.licence_id}/usage", headers=stranger.headers)
    ).status_code == 404
    delivery = (await client.get(f"/v1/deliveries/{b.licence_id}", headers=b.buyer.headers)).json()
    assert (delivery["calls_used"], delivery["calls_remaining"]) == (5, 0)


async def test_quantity_is_the_quota_whatever_the_template_says(api: Api, client: Any, app: Any) -> None:
    one = await bought_api(api, quantity=1, quota=10_000)
    many = await bought_api(api, quantity=100, quota=10_000)
    for b, calls in ((one, 1), (many, 100)):
        delivery = (await client.get(f"/v1/deliveries/{b.licence_id}", headers=b.buyer.headers)).json()
        licence = (await client.get(f"/v1/licences/{b.licence_id}", headers=b.buyer.headers)).json()
        assert delivery["call_quota"] == calls == licence["terms"]["quota"]


async def test_buyer_credential_and_hop_by_hop_headers_never_reach_the_upstream(
    api: Api, client: Any, app: Any
) -> None:
    b = await bought_api(api)
    with fake_upstream(app) as upstream:
        r = await client.post(
            f"/gateway/{b.product_id}/echo",
            content=b'{"q": 1}',
            headers={
                "Authorization": f"Bearer {b.credential}",
                "Content-Type": "application/json",
                "Connection": "keep-alive, X-Drop-Me",
                "X-Drop-Me": "1",
                "Keep-Alive": "timeout=5",
                "Proxy-Authorization": "Basic Zm9vOmJhcg==",
                "TE": "trailers",
                "X-Api-Key": "buyer-tries-to-set-the-sellers-header",
                "X-Request-Note": "kept",
            },
        )
        assert r.status_code == 200, r.text
        seen = upstream.seen[0]
        assert seen.method == "POST" and seen.content == b'{"q": 1}'
        assert seen.headers["x-api-key"] == UPSTREAM_SECRET  # the seller's, not the buyer's
        assert seen.headers["x-request-note"] == "kept"
        assert seen.headers["content-type"] == "application/json"
        for header in ("authorization", "x-delivery-credential", "keep-alive", "proxy-authorization", "te"):
            assert header not in seen.headers, header
        assert "x-drop-me" not in seen.headers  # named by Connection: hop-by-hop too
        assert b.credential not in str(seen.headers.raw)
        # The upstream's hop-by-hop headers do not come back either.
        upstream.answer = lambda request: httpx.Response(
            200,
            headers={"Connection": "close, X-Internal", "X-Internal": "1", "X-Data": "yes"},
            content=b"ok",
        )
        back = await client.get(f"/gateway/{b.product_id}/rates", headers=b.auth)
    assert back.status_code == 200 and back.content == b"ok"
    assert back.headers["x-data"] == "yes" and "x-internal" not in back.headers


async def test_the_upstream_secret_is_never_shown_and_sealed_at_rest(api: Api, client: Any, app: Any) -> None:
    b = await bought_api(api)
    seen: list[str] = []
    got = await client.get(f"/v1/products/{b.product_id}/upstream", headers=b.seller.headers)
    assert got.status_code == 200
    assert got.json()["auth_secret_set"] is True and got.json()["auth_header"] == "X-Api-Key"
    seen.append(got.text)
    # Changing other terms keeps the secret held (and still does not show it).
    put = await client.put(
        f"/v1/products/{b.product_id}/upstream",
        json={"base_url": "http://upstream.example/api/", "auth_header": "X-Api-Key", "timeout_seconds": 3},
        headers=b.seller.headers,
    )
    assert put.status_code == 200, put.text
    assert put.json()["base_url"] == "http://upstream.example/api" and put.json()["timeout_seconds"] == 3
    seen.append(put.text)
    with fake_upstream(app) as upstream:
        ok = await client.get(f"/gateway/{b.product_id}/rates", headers=b.auth)
        upstream.answer = lambda request: httpx.Response(503, text="upstream internals")
        failed = await client.get(f"/gateway/{b.product_id}/rates", headers=b.auth)
    assert upstream.seen[0].headers["x-api-key"] == UPSTREAM_SECRET
    assert ok.status_code == 200 and failed.status_code == 502
    seen += [ok.text, failed.text, str(ok.headers), str(failed.headers)]
    for party in (b.buyer.headers, b.seller.headers, b.operator):
        seen.append((await client.get(f"/v1/products/{b.product_id}/upstream", headers=party)).text)
        seen.append((await client.get(f"/v1/deliveries/{b.licence_id}/usage", headers=party)).text)
    async with app.state.sessionmaker() as s:
        stored = (await s.execute(select(UpstreamRow))).scalar_one()
        audit = [e.leaf for e in (await s.execute(select(AuditEntry))).scalars()]
    seen += [str(audit), stored.sealed_secret or ""]
    encoded = base64.b64encode(UPSTREAM_SECRET.encode()).decode()
    assert not [text for text in seen if UPSTREAM_SECRET in text or encoded in text]
    # The buyer does not even learn where the upstream is.
    assert (
        await client.get(f"/v1/products/{b.product_id}/upstream", headers=b.buyer.headers)
    ).status_code == 404


async def test_a_revoked_licence_answers_410_with_its_reason(api: Api, client: Any, app: Any) -> None:
    b = await bought_api(api)
    with fake_upstream(app):
        assert (await client.get(f"/gateway/{b.product_id}/rates", headers=b.auth)).status_code == 200
        refunded = await client.post(
            f"/v1/orders/{b.order_id}/refund",
            json={"reason": "the seller cannot deliver"},
            headers={**b.operator, **key()},
        )
        assert refunded.status_code == 201, refunded.text
        clock.advance(timedelta(seconds=2))  # every gateway sees it within a second
        gone = await client.get(f"/gateway/{b.product_id}/rates", headers=b.auth)
    assert gone.status_code == 410, gone.text
    assert gone.json()["type"].endswith("/delivery-revoked") and "revoked" in gone.json()["reason"]


async def test_methods_paths_and_credentials_are_enforced(api: Api, client: Any, app: Any) -> None:
    b = await bought_api(api)
    other = await bought_api(api)
    with fake_upstream(app) as upstream:
        cases = {
            ("DELETE", f"/gateway/{b.product_id}/rates", "good"): 403,
            ("GET", f"/gateway/{b.product_id}/admin/users", "good"): 404,
            ("GET", f"/gateway/{b.product_id}/ratesX", "good"): 404,
            ("GET", f"/gateway/{b.product_id}/rates/../admin", "good"): 404,
            ("GET", f"/gateway/{other.product_id}/rates", "good"): 404,  # not this licence's product
            ("GET", f"/gateway/{b.product_id}/rates", "none"): 401,
            ("GET", f"/gateway/{b.product_id}/rates", "forged"): 401,
            ("GET", f"/gateway/{b.product_id}/rates", "login"): 401,
        }
        headers = {
            "good": b.auth,
            "none": {},
            "forged": {"X-Delivery-Credential": b.credential[:-2] + "xx"},
            "login": b.buyer.headers,
        }
        for (method, url, who), status in cases.items():
            r = await client.request(method, url, headers=headers[who])
            assert r.status_code == status, (method, url, who, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
    assert upstream.seen == []
    await flush(app)
    usage = (await client.get(f"/v1/deliveries/{b.licence_id}/usage", headers=b.buyer.headers)).json()
    assert usage["calls_used"] == 0  # refused calls are not counted


async def test_upstream_failures_answer_502_and_504_and_count_only_if_the_plan_says(
    api: Api, client: Any, app: Any
) -> None:
    def failing(kind: str) -> Any:
        def answer(request: httpx.Request) -> httpx.Response:
            if kind == "timeout":
                raise httpx.ReadTimeout("slow", request=request)
            if kind == "down":
                raise httpx.ConnectError("refused", request=request)
            return httpx.Response(500, text="boom")

        return answer

    for count_failed in (False, True):
        b = await bought_api(api, quantity=3, upstream={"count_failed_calls": count_failed})
        with fake_upstream(app) as upstream:
            for kind, status in (("timeout", 504), ("down", 502), ("error", 502)):
                upstream.answer = failing(kind)
                r = await client.get(f"/gateway/{b.product_id}/rates", headers=b.auth)
                assert r.status_code == status, r.text
                assert r.headers["content-type"].startswith("application/problem+json")
                assert "boom" not in r.text
            upstream.answer = lambda request: httpx.Response(200, json={})
            after = await client.get(f"/gateway/{b.product_id}/rates", headers=b.auth)
        await flush(app)
        usage = (await client.get(f"/v1/deliveries/{b.licence_id}/usage", headers=b.buyer.headers)).json()
        if count_failed:  # "per request": the three failures used the whole quota
            assert after.status_code == 429 and usage["calls_used"] == 3
            assert [(d["calls"], d["failed_calls"]) for d in usage["days"]] == [(3, 0)]
        else:  # "per successful request" (the default)
            assert after.status_code == 200 and usage["calls_used"] == 1
            assert [(d["calls"], d["failed_calls"]) for d in usage["days"]] == [(1, 3)]


async def test_a_licence_over_its_rate_limit_answers_429_with_retry_after(
    api: Api, client: Any, app: Any
) -> None:
    b = await bought_api(api, quantity=10, upstream={"rate_limit": "2/minute"})
    with fake_upstream(app):
        statuses = [
            (await client.get(f"/gateway/{b.product_id}/rates", headers=b.auth)).status_code for _ in range(3)
        ]
        limited = await client.get(f"/gateway/{b.product_id}/rates", headers=b.auth)
    assert statuses == [200, 200, 429]
    assert limited.json()["type"].endswith("/rate-limited")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    await flush(app)
    usage = (await client.get(f"/v1/deliveries/{b.licence_id}/usage", headers=b.buyer.headers)).json()
    assert usage["calls_used"] == 2  # rate-limited calls do not use the quota


async def test_a_subscriptions_quota_renews_each_period(api: Api, client: Any, app: Any) -> None:
    plan = {
        "kind": "subscription",
        "period": "month",
        "price_per_period": "300",
        "currency": "CNY",
        "plan_version": 1,
    }
    b = await bought_api(api, quantity=1, plan=plan, quota=2)
    with fake_upstream(app):
        month = [
            (await client.get(f"/gateway/{b.product_id}/rates", headers=b.auth)).status_code for _ in range(3)
        ]
        clock.advance(timedelta(days=32))
        next_month = [
            (await client.get(f"/gateway/{b.product_id}/rates", headers=b.auth)).status_code for _ in range(3)
        ]
    assert month == next_month == [200, 200, 429]
    await flush(app)
    usage = (await client.get(f"/v1/deliveries/{b.licence_id}/usage", headers=b.buyer.headers)).json()
    assert (usage["quota_period"], usage["call_quota"], usage["calls_used"]) == ("month", 2, 2)
    assert sorted(d["calls"] for d in usage["days"]) == [2, 2]


async def test_private_upstreams_are_refused_in_production(api: Api, client: Any, app: Any) -> None:
    # Embedded and test runs allow a loopback upstream, so a seller can try its API locally.
    b = await bought_api(api, upstream={"base_url": "http://127.0.0.1:8080/api"})
    seller, product_id = b.seller, b.product_id
    production = {
        "mode": "production",
        "root_secret": base64.b64encode(app.state.settings.root_secrets()[0]).decode(),
        "signing_key": base64.b64encode(bytes(range(32))).decode(),
    }
    with runtime_swaps.settings(app, **production), fake_upstream(app) as upstream:
        clock.advance(timedelta(seconds=2))  # the gateway resolves the upstream again
        refused = await client.get(f"/gateway/{product_id}/rates", headers=b.auth)
        assert refused.status_code == 502 and "127.0.0.1" in refused.json()["detail"], refused.text
        assert upstream.seen == []
        for url in (
            "http://127.0.0.1:8080/api",
            "http://localhost/api",
            "http://10.1.2.3/",
            "http://192.168.0.10/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]:80/",
            "http://[::ffff:127.0.0.1]/",
        ):
            r = await client.put(
                f"/v1/products/{product_id}/upstream", json={"base_url": url}, headers=seller.headers
            )
            assert r.status_code == 422, (url, r.text)
            assert [e["field"] for e in r.json()["errors"]] == ["body.base_url"], r.text
        public = await client.put(
            f"/v1/products/{product_id}/upstream",
            json={"base_url": "http://93.184.215.14/api"},
            headers=seller.headers,
        )
        assert public.status_code == 200, public.text


async def test_only_the_seller_sets_an_api_products_upstream(api: Api, client: Any, app: Any) -> None:
    seller, other = await api.org(), await api.org()
    product_id = await api_product(api, seller)
    body = {"base_url": "http://upstream.example/"}
    assert (
        await client.put(f"/v1/products/{product_id}/upstream", json=body, headers=other.headers)
    ).status_code == 404
    bad = await client.put(
        f"/v1/products/{product_id}/upstream",
        json={**body, "allowed_methods": ["BREW"], "auth_header": "Connection", "rate_limit": "lots"},
        headers=seller.headers,
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {
        "body.allowed_methods",
        "body.auth_header",
        "body.rate_limit",
    }
    no_secret = await client.put(
        f"/v1/products/{uuid.UUID(product_id)}/upstream",
        json={**body, "auth_header": "X-Key"},
        headers=(await api.org()).headers,
    )
    assert no_secret.status_code == 404


async def test_daily_usage_is_summarised_into_the_audit_log(api: Api, client: Any, app: Any) -> None:
    b = await bought_api(api, quantity=5)
    with fake_upstream(app):
        for _ in range(3):
            assert (await client.get(f"/gateway/{b.product_id}/rates", headers=b.auth)).status_code == 200
    await flush(app)
    assert await run(app, gateway_jobs.summarise_usage) == 0  # the day is not over yet
    clock.advance(timedelta(days=1))
    assert await run(app, gateway_jobs.summarise_usage) == 1
    assert await run(app, gateway_jobs.summarise_usage) == 0  # once
    async with app.state.sessionmaker() as s:
        entries = (
            (await s.execute(select(AuditEntry).where(AuditEntry.action == "usage.daily"))).scalars().all()
        )
    assert [e.subject_id for e in entries] == [b.licence_id]
    assert '"calls":3' in entries[0].leaf.replace(" ", "")


async def test_a_real_upstream_on_loopback_streams_both_ways(api: Api, client: Any, app: Any) -> None:
    async with served_upstream() as base_url:
        b = await bought_api(
            api,
            quantity=10,
            upstream={
                "base_url": base_url,
                "allowed_path_prefixes": ["/rates", "/echo", "/big", "/slow"],
                "timeout_seconds": 0.5,
            },
        )
        rates = await client.get(f"/gateway/{b.product_id}/rates", headers=b.auth)
        assert rates.status_code == 200, rates.text
        got = rates.json()["headers"]
        assert got["x-api-key"] == UPSTREAM_SECRET and "x-delivery-credential" not in got
        assert got["host"] == base_url.split("/")[2]
        body = bytes(range(256)) * 4096  # 1 MiB up
        echo = await client.post(f"/gateway/{b.product_id}/echo", content=body, headers=b.auth)
        assert echo.status_code == 200 and echo.content == body
        big = await client.get(f"/gateway/{b.product_id}/big?chunks=32", headers=b.auth)  # 2 MiB down
        assert big.status_code == 200 and big.content == CHUNK * 32
        slow = await client.get(f"/gateway/{b.product_id}/slow", headers=b.auth)
        assert slow.status_code == 504 and slow.json()["type"].endswith("/upstream-timeout")
    down = await client.get(f"/gateway/{b.product_id}/rates", headers=b.auth)
    assert down.status_code == 502 and down.json()["type"].endswith("/upstream-error")
    await flush(app)
    usage = (await client.get(f"/v1/deliveries/{b.licence_id}/usage", headers=b.buyer.headers)).json()
    assert usage["calls_used"] == 3 and usage["days"][0]["failed_calls"] == 2


@asynccontextmanager
async def second_gateway(app: Any) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """Another gateway process on the same database: its own app, engine, meter and limiter."""
    other = create_app(app.state.settings)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://other") as c:
            yield other, c
    finally:
        await other.state.runtime.port(GATEWAY).stop()
        await other.state.engine.dispose()


@pytest.mark.postgres_only
async def test_two_gateway_processes_never_exceed_the_quota(
    api: Api, client: Any, app: Any, backend: str
) -> None:
    b = await bought_api(api, quantity=30, upstream={"rate_limit": "10000/second"})
    async with second_gateway(app) as (other, other_client):
        with fake_upstream(app) as upstream, fake_upstream(other) as other_upstream:
            calls = [
                (client if n % 2 else other_client).get(
                    f"/gateway/{b.product_id}/rates?n={n}", headers=b.auth
                )
                for n in range(90)
            ]
            statuses = [r.status_code for r in await asyncio.gather(*calls)]
        assert statuses.count(200) == 30 and statuses.count(429) == 60, statuses
        assert len(upstream.seen) + len(other_upstream.seen) == 30
        assert upstream.seen and other_upstream.seen  # both processes served some
        await other.state.runtime.port(GATEWAY).meter.flush()
    await flush(app)
    usage = (await client.get(f"/v1/deliveries/{b.licence_id}/usage", headers=b.buyer.headers)).json()
    assert usage["calls_used"] == 30 and [d["calls"] for d in usage["days"]] == [30]


async def test_a_stopping_gateway_gives_its_unused_calls_back(api: Api, client: Any, app: Any) -> None:
    b = await bought_api(api, quantity=40)
    async with second_gateway(app) as (other, other_client):
        with fake_upstream(other):
            assert (
                await other_client.get(f"/gateway/{b.product_id}/rates", headers=b.auth)
            ).status_code == 200
        await other.state.runtime.port(GATEWAY).stop()  # shutdown: the unused reservation goes back
    with fake_upstream(app):
        statuses = [
            (await client.get(f"/gateway/{b.product_id}/rates", headers=b.auth)).status_code
            for _ in range(40)
        ]
    assert statuses.count(200) == 39 and statuses[-1] == 429
