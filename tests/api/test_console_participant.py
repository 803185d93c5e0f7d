"""A participant in the console, as a browser without JavaScript sees it: buying a file from a
prepaid balance (or by bank transfer an operator confirms), the order, the licence and its
download; API keys and webhook endpoints created and revoked; each with the API's rules and audit
entries, only their own things, CSRF refused, bad input explained and nothing changed; and the
API's sign-in limits on the console's login, with recovery."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from typing import Any

from sqlalchemy import select

from market.alerts.models import RiskAlert
from market.audit.models import AuditEntry
from market.auth.models import ApiKey
from market.orders.models import Order, Quote
from tests.api.compliance_factories import listed_product
from tests.api.console_buyer_factories import file_for_sale
from tests.api.console_factories import Browser, browser, csrf_of, staff_email
from tests.api.factories import PASSWORD, Api, row_count
from tests.api.gateway_factories import api_product, bought_api, fake_upstream, flush
from tests.api.prepaid_factories import balance, funded_buyer
from tests.api.test_rate_limits import limited

UUID = r"[0-9a-f-]{36}"


async def ask_quote(b: Browser, product_id: str, **fields: Any) -> Any:
    form = {"quantity": "1", "purpose": "risk_control", "scenario": "credit risk scoring", **fields}
    return await b.submit(f"/console/products/{product_id}", f"/console/products/{product_id}/quote", form)


async def actions_on(app: Any, subject_id: str) -> list[tuple[str, str]]:
    async with app.state.sessionmaker() as s:
        rows = await s.execute(
            select(AuditEntry.action, AuditEntry.actor)
            .where(AuditEntry.subject_id == subject_id)
            .order_by(AuditEntry.id)
        )
        return [(a, b) for a, b in rows.all()]


async def test_buyer_quotes_orders_from_balance_and_downloads_the_file(api: Api, app: Any) -> None:
    sale = await file_for_sale(api)
    async with browser(app) as b:
        await b.log_in(sale.buyer.email)
        # The catalogue on the landing page leads to the product's page.
        assert f'href="/console/products/{sale.product_id}"' in (await b.get("/")).text
        product = await b.get(f"/console/products/{sale.product_id}")
        assert (
            product.status_code == 200
            and 'for="quantity"' in product.text
            and 'for="purpose"' in product.text
        )
        # Bad input: a clear message naming the field, and no quote.
        bad = await ask_quote(b, sale.product_id, quantity="many")
        assert bad.status_code == 200 and "Invalid input: Quantity" in bad.text
        refused = await ask_quote(b, sale.product_id, scenario="something undeclared")
        assert "no declared scenario, no trade" in refused.text
        assert await row_count(app, Quote) == 0
        quoted = await ask_quote(b, sale.product_id)
        assert re.search(rf"/console/me/quotes/{UUID}$", str(quoted.url)), quoted.url
        assert "¥100.00 CNY" in quoted.text and 'id="quote-lines"' in quoted.text
        quote_url = str(quoted.url).removeprefix("http://test")
        quote_id = quote_url.rsplit("/", 1)[1]
        # A form without its CSRF token is refused, and no order is made.
        forged = await b.client.post(f"{quote_url}/order", data={"payment_method": "account"})
        assert forged.status_code in (403, 422) and await row_count(app, Order) == 0
        wrong = await b.client.post(
            f"{quote_url}/order", data={"csrf": "0" * 64, "payment_method": "account"}
        )
        assert wrong.status_code == 403 and await row_count(app, Order) == 0
        bad_method = await b.submit(quote_url, f"{quote_url}/order", {"payment_method": "cheque"})
        assert "Invalid input: Payment method" in bad_method.text and await row_count(app, Order) == 0
        placed = await b.submit(quote_url, f"{quote_url}/order", {"payment_method": "account"})
        assert placed.status_code == 200 and "Order placed" in placed.text
        status = re.search(r'id="order-status">([a-z_]+)<', placed.text)
        assert status and status.group(1) == "delivered", placed.text[:2000]
        order_id = str(placed.url).rsplit("/", 1)[1]
        # The same use case as the API: the order is audited as placed by this user.
        actions = [a for a, _ in await actions_on(app, order_id)]
        assert "order.created" in actions and "payment.created" in actions
        assert await balance(api, sale.buyer, sale.account_id) == 100_000 - 10_000
        # The same quote ordered again (a second click) is refused, nothing more taken.
        again = await b.submit(quote_url, f"{quote_url}/order", {"payment_method": "account"})
        assert "already been ordered" in again.text or quote_id not in again.text
        assert await balance(api, sale.buyer, sale.account_id) == 90_000
        licence_link = re.search(r'id="order-licence" href="([^"]+)"', placed.text)
        assert licence_link
        licence = await b.get(licence_link.group(1))
        assert sale.name in licence.text and hashlib.sha256(sale.content).hexdigest() in licence.text
        link = re.search(r'href="(/console/me/licences/[^"]+/files/[^"]+)"', licence.text)
        assert link
        hop = await b.client.get(link.group(1), follow_redirects=False)
        assert hop.status_code == 303 and "sig=" in hop.headers["location"]
        downloaded = await b.get(link.group(1))
        assert downloaded.status_code == 200 and downloaded.content == sale.content
        overview = await b.get("/console/me")
        assert "no-store" in overview.headers["cache-control"]  # one participant's own data
        mine = overview.text
        assert licence_link.group(1) in mine and f"/console/me/orders/{order_id}" in mine
    # Another participant learns nothing of it: each page is "not found", as in the API.
    other = await api.org()
    async with browser(app) as b:
        await b.log_in(other.email)
        for page in (f"/console/me/orders/{order_id}", licence_link.group(1), link.group(1), quote_url):
            assert (await b.get(page)).status_code == 404, page
        mine = (await b.get("/console/me")).text
        assert order_id not in mine
        stolen = await b.submit("/console/me", f"{quote_url}/order", {"payment_method": "account"})
        assert stolen.status_code == 404


async def test_bank_transfer_order_awaits_the_operator(api: Api, app: Any) -> None:
    sale = await file_for_sale(api, balance_minor=0)
    async with browser(app) as b:
        await b.log_in(sale.buyer.email)
        quote_url = str((await ask_quote(b, sale.product_id)).url).removeprefix("http://test")
        # From an empty balance the order is refused (402 in the API), and nothing is kept.
        short = await b.submit(quote_url, f"{quote_url}/order", {"payment_method": "account"})
        assert "balance" in short.text.lower() and await row_count(app, Order) == 0
        placed = await b.submit(quote_url, f"{quote_url}/order", {"payment_method": "provider"})
        status = re.search(r'id="order-status">([a-z_]+)<', placed.text)
        assert status and status.group(1) == "pending_payment"
        assert (
            "once an operator confirms it arrived" in placed.text and 'id="payment-reference"' in placed.text
        )
        order_id = str(placed.url).rsplit("/", 1)[1]
        confirmed = await api.client.post(f"/v1/payments/{order_id}/confirmation", headers=sale.operator)
        assert confirmed.status_code == 200, confirmed.text
        page = (await b.get(f"/console/me/orders/{order_id}")).text
        assert 'id="order-status">delivered<' in page and 'id="order-licence"' in page


async def test_api_keys_created_once_shown_and_revoked(api: Api, app: Any, client: Any) -> None:
    owner, other = await api.org(), await api.org()
    async with browser(app) as b:
        await b.log_in(owner.email)
        empty = await b.submit("/console/me", "/console/me/api-keys", {"name": " ", "roles": ["buyer"]})
        assert "Invalid input: Name" in empty.text and await row_count(app, ApiKey) == 0
        too_much = await b.submit(
            "/console/me", "/console/me/api-keys", {"name": "etl", "roles": ["operator"]}
        )
        assert "Invalid input: Roles" in too_much.text and await row_count(app, ApiKey) == 0
        missing = await b.client.post("/console/me/api-keys", data={"name": "etl", "roles": ["buyer"]})
        assert missing.status_code in (403, 422) and await row_count(app, ApiKey) == 0
        created = await b.submit(
            "/console/me", "/console/me/api-keys", {"name": "etl-nightly", "roles": ["buyer"]}
        )
        assert created.status_code == 200 and "shown this once" in created.text
        assert "no-store" in created.headers["cache-control"]
        secret = re.search(r'id="secret" type="text" readonly size="80" value="([^"]+)"', created.text)
        assert secret and secret.group(1).startswith("mk_")
        me = await client.get("/v1/auth/me", headers={"X-API-Key": secret.group(1)})
        assert me.status_code == 200 and me.json()["participant_id"] == owner.participant_id
        page = (await b.get("/console/me")).text
        assert "etl-nightly" in page and secret.group(1) not in page  # never shown again
        key_id = re.search(rf'action="/console/me/api-keys/({UUID})/revocation"', page)
        assert key_id
    assert [a for a, _ in await actions_on(app, key_id.group(1))] == ["api_key.created"]
    async with browser(app) as b:  # another participant's key: not found, still active
        await b.log_in(other.email)
        theirs = await b.submit("/console/me", f"/console/me/api-keys/{key_id.group(1)}/revocation", {})
        assert theirs.status_code == 404
    assert (await client.get("/v1/auth/me", headers={"X-API-Key": secret.group(1)})).status_code == 200
    async with browser(app) as b:
        await b.log_in(owner.email)
        revoked = await b.submit("/console/me", f"/console/me/api-keys/{key_id.group(1)}/revocation", {})
        assert "API key revoked" in revoked.text and "Revoked" in revoked.text
    assert (await client.get("/v1/auth/me", headers={"X-API-Key": secret.group(1)})).status_code == 401
    assert [a for a, _ in await actions_on(app, key_id.group(1))] == ["api_key.created", "api_key.revoked"]


async def test_api_key_creation_has_the_api_limit(api: Api, app: Any) -> None:
    owner = await api.org()
    with limited(app, rate_limit_api_keys="1/minute"):
        async with browser(app) as b:
            await b.log_in(owner.email)
            first = await b.submit("/console/me", "/console/me/api-keys", {"name": "one", "roles": ["buyer"]})
            assert "shown this once" in first.text
            second = await b.submit(
                "/console/me", "/console/me/api-keys", {"name": "two", "roles": ["buyer"]}
            )
            assert (
                "Rate limit" in second.text
                and "two" not in second.text.split("<main", 1)[1].split("my-keys")[0]
            )
    assert await row_count(app, ApiKey) == 1


async def test_webhook_endpoints_added_and_deleted(api: Api, app: Any) -> None:
    owner, other = await api.org(), await api.org()
    async with browser(app) as b:
        await b.log_in(owner.email)
        bad = await b.submit("/console/me", "/console/me/webhooks", {"url": "nope"})
        assert "Invalid input: URL" in bad.text
        added = await b.submit(
            "/console/me",
            "/console/me/webhooks",
            {"url": "https://hooks.example.cn/exchange", "event_types": "order.paid, licence.issued"},
        )
        assert added.status_code == 200 and "whsec_" in added.text
        assert "no-store" in added.headers["cache-control"]
        page = (await b.get("/console/me")).text
        endpoint = re.search(rf'action="/console/me/webhooks/({UUID})/deletion"', page)
        assert endpoint and "whsec_" not in page
    async with browser(app) as b:
        await b.log_in(other.email)
        theirs = await b.submit("/console/me", f"/console/me/webhooks/{endpoint.group(1)}/deletion", {})
        assert theirs.status_code == 404
    async with browser(app) as b:
        await b.log_in(owner.email)
        gone = await b.submit("/console/me", f"/console/me/webhooks/{endpoint.group(1)}/deletion", {})
        assert "Webhook endpoint deleted" in gone.text
    actions = [a for a, _ in await actions_on(app, endpoint.group(1))]
    assert actions == ["webhook_endpoint.created", "webhook_endpoint.deleted"]


async def test_staff_have_no_participant_pages(api: Api, app: Any) -> None:
    async with browser(app) as b:
        await b.log_in(await staff_email(app, "auditor"))
        assert (await b.get("/console/me")).status_code == 403
        refused = await b.submit("/console/audit", "/console/me/api-keys", {"name": "x", "roles": ["buyer"]})
        assert refused.status_code == 403
    assert await row_count(app, ApiKey) == 0


async def test_console_login_has_the_api_limits_per_ip_and_recovers(api: Api, app: Any) -> None:
    seller = await api.org()
    with limited(app, rate_limit_login_ip="3 per 2 seconds"):
        async with browser(app) as b:
            for _ in range(3):
                assert (await b.log_in(seller.email)).status_code == 200
            page = await b.get("/login")
            over = await b.client.post(
                "/login", data={"email": seller.email, "password": PASSWORD, "csrf": csrf_of(page.text)}
            )
            assert over.status_code == 429 and int(over.headers["Retry-After"]) >= 1
            assert "Too many sign-in attempts; try again in" in over.text
            assert "market_console=" not in over.headers.get("set-cookie", "")
            await asyncio.sleep(2.1)
            again = await b.log_in(seller.email)
            assert again.status_code == 200 and str(again.url).endswith("/console/me")


async def test_console_login_backs_off_then_locks_the_account_and_recovers(api: Api, app: Any) -> None:
    seller = await api.org()
    rules = {"rate_limit_login_failures": "2 per 1 second", "rate_limit_login_lock": "3 per 4 seconds"}
    with limited(app, **rules):
        async with browser(app, lang="zh") as b:
            for _ in range(2):
                assert (await b.log_in(seller.email, "wrong password 123")).status_code == 401
            backoff = await b.log_in(seller.email)  # even the right password waits
            assert backoff.status_code == 429 and "登录尝试过于频繁" in backoff.text
            await asyncio.sleep(1.1)
            locked = await b.log_in(seller.email, "wrong password 123")
            assert locked.status_code == 429 and "已暂时锁定" in locked.text
            assert int(locked.headers["Retry-After"]) >= 1
            # The API's own sign-in counts the same account.
            token = await api.client.post(
                "/v1/auth/token", data={"username": seller.email, "password": PASSWORD}
            )
            assert token.status_code == 429
            await asyncio.sleep(4.1)
            assert (await b.log_in(seller.email)).status_code == 200


async def test_api_usage_by_day_is_charted_for_buyer_and_seller(api: Api, app: Any, client: Any) -> None:
    b = await bought_api(api, quantity=5)
    with fake_upstream(app):
        for n in range(3):
            r = await client.get(f"/gateway/{b.product_id}/rates/cny?day={n}", headers=b.auth)
            assert r.status_code == 200, r.text
    await flush(app)
    for party in (b.buyer, b.seller):
        async with browser(app) as page:
            await page.log_in(party.email)
            mine = (await page.get("/console/me")).text
            data = re.search(r'<script type="application/json" id="usage-data">(.*?)</script>', mine)
            if party is b.buyer:  # the overview adds up its API licences
                assert data and json.loads(data.group(1))["calls"] == [3]
                assert "/console/static/vendor/uplot/uPlot.iife.min.js" in mine
            licence = await page.get(f"/console/me/licences/{b.licence_id}")
            assert licence.status_code == 200
            assert 'id="calls-used">3<' in licence.text
            chart = re.search(r'id="usage-data">(.*?)</script>', licence.text)
            assert (
                chart
                and json.loads(chart.group(1))["calls"] == [3]
                and json.loads(chart.group(1))["failed"] == [0]
            )
    stranger = await api.org()
    async with browser(app) as page:
        await page.log_in(stranger.email)
        assert (await page.get(f"/console/me/licences/{b.licence_id}")).status_code == 404


async def test_participant_pages_in_chinese(api: Api, app: Any) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    product_id = (await listed_product(app, seller.participant_id))["product_id"]
    async with browser(app, lang="zh") as b:
        await b.log_in(buyer.email)
        mine = (await b.get("/console/me")).text
        assert "创建 API 密钥" in mine and "添加 Webhook 端点" in mine and 'for="key-name">名称<' in mine
        product = (await b.get(f"/console/products/{product_id}")).text
        assert "获取报价" in product and 'for="purpose">用途<' in product
        created = await b.submit("/console/me", "/console/me/api-keys", {"name": "同步", "roles": ["buyer"]})
        assert "此密钥只显示这一次" in created.text


async def test_a_staff_account_locked_at_the_console_raises_the_alert(api: Api, app: Any) -> None:
    email = await staff_email(app, "auditor")
    with limited(app, rate_limit_login_failures="10/minute", rate_limit_login_lock="3/minute"):
        async with browser(app) as b:
            for _ in range(2):
                assert (await b.log_in(email, "not the password 1")).status_code == 401
            locked = await b.log_in(email, "not the password 1")
            assert locked.status_code == 429 and "locked" in locked.text
    # The lock's record is kept though the sign-in was refused (as in the API).
    assert await row_count(app, RiskAlert) == 1


async def test_an_api_product_bought_from_the_balance_shows_its_credential_once(
    api: Api, app: Any, client: Any
) -> None:
    seller = await api.org()
    operator = await api.staff("operator")
    product_id = await api_product(api, seller)
    buyer, account_id = await funded_buyer(api, operator, 100_000)
    async with browser(app) as b:
        await b.log_in(buyer.email)
        quote_url = str((await ask_quote(b, product_id, quantity="3")).url).removeprefix("http://test")
        shown = await b.submit(quote_url, f"{quote_url}/order", {"payment_method": "account"})
        assert shown.status_code == 200 and "no-store" in shown.headers["cache-control"]
        credential = re.search(r'id="secret" type="text" readonly size="80" value="([^"]+)"', shown.text)
        assert credential
        order = re.search(rf'href="(/console/me/orders/{UUID})"', shown.text)
        assert order
        page = (await b.get(order.group(1))).text
        assert 'id="order-status">delivered<' in page and credential.group(1) not in page
    with fake_upstream(app):
        called = await client.get(
            f"/gateway/{product_id}/rates/cny", headers={"X-Delivery-Credential": credential.group(1)}
        )
    assert called.status_code == 200, called.text
    assert await balance(api, buyer, account_id) < 100_000


async def test_landing_page_has_the_api_public_limit_and_recovers(api: Api, app: Any) -> None:
    with limited(app, rate_limit_public_ip="2 per 2 seconds"):
        async with browser(app) as b:
            assert (await b.get("/")).status_code == 200
            assert (await b.get("/console/catalogue?q=x")).status_code == 200
            over = await b.get("/")
            assert over.status_code == 429 and int(over.headers["Retry-After"]) >= 1
            assert "Try again in" in over.text
            await asyncio.sleep(2.1)
            assert (await b.get("/")).status_code == 200
