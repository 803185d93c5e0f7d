"""The console in a real browser (the distribution's Chromium through Playwright), against a live
server on loopback: an operator takes a registration from review to registered, an auditor
verifies an entry with the page's own WebCrypto checks, an operator acknowledges an alert, and
the API docs render from vendored assets without reaching any other host."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from market.common import clock
from tests.api.audit_factories import publish_now
from tests.api.compliance_factories import listed_product
from tests.api.console_factories import staff_email
from tests.api.factories import PASSWORD, Api
from tests.api.jobs import drain
from tests.api.live_console import chromium, live_server, needs_chromium, screenshot
from tests.api.orders_factories import sealed_quote
from tests.api.registry_factories import registered_resource, resource_with_sample

pytestmark = [needs_chromium, pytest.mark.browser]


async def log_in(page: Any, email: str) -> None:
    await page.goto("/login")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_load_state()


def only_loopback(page: Any, base_url: str) -> list[str]:
    """Every request the page sends anywhere but the live server. One the page's Content
    Security Policy stops in the browser never leaves it, so it does not count."""
    elsewhere: list[str] = []

    def sent(request: Any) -> None:
        if not request.url.startswith((base_url, "data:", "blob:")):
            elsewhere.append(request.url)

    def failed(request: Any) -> None:
        if "csp" in (request.failure or "").lower() and request.url in elsewhere:
            elsewhere.remove(request.url)

    page.on("request", sent)
    page.on("requestfailed", failed)
    return elsewhere


async def test_operator_takes_a_registration_to_registered_in_the_browser(
    api: Api, client: Any, app: Any
) -> None:
    seller = await api.org(name="长春数据公司")
    resource = await resource_with_sample(api, seller, title="吉林企业月度经营数据")
    applied = await client.post(
        "/v1/registrations",
        headers=seller.headers,
        json={"resource_id": resource["id"], "rights_evidence": "own collection, contracts on file"},
    )
    assert applied.status_code == 201
    operator = await staff_email(app, "operator")
    async with live_server(app) as base, chromium(base) as context:
        page = await context.new_page()
        elsewhere = only_loopback(page, base)
        await log_in(page, operator)
        assert page.url.endswith("/console/queues")
        row = page.locator('tr[data-queue="registrations_to_review"] .count')
        assert (await row.inner_text()) == "1"
        await screenshot(page, "operator-queues")
        await page.get_by_role("link", name="Registrations to review").click()
        await page.get_by_role("link", name="吉林企业月度经营数据").click()
        assert "Art. 82" in await page.content()
        for item in (
            "Classification present",
            "Lawful source",
            "Fingerprint checked",
            "Rights evidence sufficient",
        ):
            await page.get_by_label(item, exact=True).check()
        await page.get_by_label("Approve into publicity").check()
        await screenshot(page, "operator-registration-case")
        await page.get_by_role("button", name="Submit").click()
        await page.wait_for_load_state()
        assert await page.locator("#registration-status").inner_text() == "publicity"
        clock.advance(timedelta(days=30))  # the publicity period has ended
        await page.get_by_role("button", name="Register those whose publicity has ended").click()
        await page.wait_for_load_state()
        assert await page.locator("#registration-status").inner_text() == "registered"
        assert "1 registered" in await page.locator(".flash").inner_text()
        number = await page.locator("#registration-number").inner_text()
        # Anyone can now look the certificate up on the landing page and see it verified.
        await page.locator("#registration-number").click()
        await page.wait_for_load_state()
        assert "Signature verified" in await page.locator("#certificate-verification").inner_text()
        await screenshot(page, "registry-lookup")
        assert elsewhere == [], f"the console reached other hosts: {elsewhere}"
    api_view = (await client.get(f"/v1/registrations/{applied.json()['id']}", headers=seller.headers)).json()
    assert api_view["status"] == "registered" and api_view["registration_number"] == number


async def test_auditor_verifies_an_entry_and_a_consistency_proof_in_the_page(api: Api, app: Any) -> None:
    seller = await api.org()
    await resource_with_sample(api, seller)
    first = await publish_now(app)
    await registered_resource(api, seller)
    await publish_now(app)
    auditor = await staff_email(app, "auditor")
    async with live_server(app) as base, chromium(base) as context:
        page = await context.new_page()
        await log_in(page, auditor)
        await page.goto("/console/audit?action=registration.registered")
        await screenshot(page, "audit-entries")
        await page.locator("#entries a").first.click()
        await page.get_by_role("button", name="Verify in the browser").click()
        result = page.locator("#verification-result")
        await result.wait_for()
        assert "Verified" in await result.inner_text(), await page.locator("#verification").inner_text()
        await screenshot(page, "audit-entry-verified")
        # The page trusts the key in the field, not the server: another key fails, visibly.
        vkey = await page.locator("#vkey").input_value()
        name, key_id, key = vkey.split("+", 2)
        await page.locator("#vkey").fill(
            f"{name}+{key_id}+{key[:10]}{'B' if key[10] != 'B' else 'C'}{key[11:]}"
        )
        await page.get_by_role("button", name="Verify in the browser").click()
        await page.wait_for_function("document.querySelector('#verification-result').className === 'bad'")
        assert "failed" in await result.inner_text()
        assert first.checkpoint_size  # an earlier checkpoint the exchange signed and kept
        await page.goto(f"/console/audit/consistency?first={first.checkpoint_size}")
        await result.wait_for()
        text = await page.locator("#verification").inner_text()
        assert "Verified" in await result.inner_text(), text
        await screenshot(page, "audit-consistency")


async def test_operator_acknowledges_an_alert_in_the_browser(api: Api, client: Any, app: Any) -> None:
    seller = await api.org()
    assert seller.credit_code is not None
    from market.participants.credit_code import credit_code_check_char

    first17 = "91220200" + seller.credit_code[8:17]  # another registration of the same organisation
    sibling = await api.org(roles=("buyer", "seller"), credit_code=first17 + credit_code_check_char(first17))
    product = await listed_product(app, seller.participant_id)
    quote = await sealed_quote(app, product["product_id"], sibling.participant_id)
    ordered = await client.post(
        "/v1/orders",
        json={"quote_id": quote},
        headers={**sibling.headers, "Idempotency-Key": "browser-alert-1"},
    )
    assert ordered.status_code == 201, ordered.text
    await drain(app)  # the trade scan raises the related-party alert
    operator_headers = await api.staff("operator")
    alerts = (await client.get("/v1/alerts?status=open", headers=operator_headers)).json()["items"]
    assert len(alerts) >= 1
    alert_id = alerts[0]["id"]
    async with live_server(app) as base, chromium(base) as context:
        page = await context.new_page()
        await log_in(page, await staff_email(app, "operator"))
        await page.get_by_role("link", name="Alerts").first.click()
        card = page.locator(f"#alert-{alert_id}")
        await card.get_by_text("Evidence").click()  # the evidence opens with the keyboard or a click
        assert ordered.json()["id"] in await card.inner_text()
        await screenshot(page, "alerts")
        await card.get_by_label("Reason").fill("same group, checked with the compliance team")
        await card.get_by_role("button", name="Acknowledge").click()
        await page.wait_for_load_state()
        await page.goto("/console/alerts?status=acknowledged")
        assert (
            "same group, checked with the compliance team"
            in await page.locator(f"#alert-{alert_id}").inner_text()
        )
    after = (await client.get("/v1/alerts?status=acknowledged", headers=operator_headers)).json()["items"]
    acknowledged = next(a for a in after if a["id"] == alert_id)
    assert acknowledged["acknowledgement"] == "same group, checked with the compliance team"
    assert acknowledged["acknowledged_by"].startswith("user:")


async def test_api_docs_render_from_vendored_assets_offline(app: Any) -> None:
    async with live_server(app) as base, chromium(base) as context:
        page = await context.new_page()
        elsewhere = only_loopback(page, base)
        await page.goto("/docs")
        await page.locator(".swagger-ui .info .title").wait_for()
        assert "Jilin Data Exchange API" in await page.locator(".swagger-ui .info .title").inner_text()
        await screenshot(page, "docs-swagger-ui", full_page=False)
        await page.goto("/redoc")
        await page.get_by_role("heading", name=re.compile("Jilin Data Exchange API")).first.wait_for()
        await page.wait_for_load_state("networkidle")
        await screenshot(page, "docs-redoc", full_page=False)
        assert elsewhere == [], f"the docs reached other hosts: {elsewhere}"


async def test_a_limit_reached_while_searching_says_how_long_to_wait(api: Api, app: Any) -> None:
    """htmx swaps only 2xx answers by default: without the page's htmx-config, the search's 429
    would leave the old results standing and the visitor clicking a button that does nothing."""
    seller = await api.org()
    await listed_product(app, seller.participant_id)
    limit = {"rate_limits_enabled": True, "rate_limit_public_ip": "3 per 60 seconds"}
    async with live_server(app, **limit) as base, chromium(base) as context:
        page = await context.new_page()
        await page.goto("/")  # the landing page is a public read of its own
        assert await page.locator("#catalogue-results tbody tr").count() == 1
        await page.get_by_label("Search terms").fill("no such data")
        await page.get_by_role("button", name="Search").click()
        await page.get_by_text("No results").wait_for()
        notice = page.locator("#catalogue-results [role=alert]")
        for _ in range(3):  # the limit allows one more search at most
            await page.get_by_role("button", name="Search").click()
            if await notice.count():
                break
            await page.wait_for_load_state("networkidle")
        await notice.wait_for()
        assert re.fullmatch(r"Try again in \d+ seconds", (await notice.inner_text()).strip())
        await screenshot(page, "search-rate-limited")


async def test_statistics_chart_and_participant_page_in_both_languages(
    api: Api, client: Any, app: Any
) -> None:
    from tests.api.test_console import paid_trades

    _, buyer = await paid_trades(api, client, app, (10_000, 25_000))
    await publish_now(app)
    authority = await staff_email(app, "price_authority")
    async with live_server(app) as base, chromium(base) as context:
        page = await context.new_page()
        await page.goto("/")
        assert await page.locator("#catalogue-results tbody tr").count() == 2  # the listed products
        await screenshot(page, "landing")
        await log_in(page, authority)
        await page.goto("/console/stats")
        await page.locator("#chart-value canvas").wait_for()  # uPlot drew the series
        assert "¥350.00" in await page.locator("#totals").inner_text()
        await screenshot(page, "statistics")
        await page.goto("/console/price-catalogue")
        await screenshot(page, "price-catalogue")
        await page.get_by_role("link", name="中文").click()
        await page.wait_for_load_state()
        assert await page.get_by_role("heading", level=1).inner_text() == "政府指导价目录"
        await page.goto("/console/stats")  # the choice is remembered
        assert await page.get_by_role("heading", level=1).inner_text() == "交易统计"
        participant = await context.browser.new_context(base_url=base, locale="en-US")
        mine = await participant.new_page()
        await log_in(mine, buyer.email)
        assert mine.url.endswith("/console/me")
        assert "¥250.00" in await mine.locator("#my-orders").inner_text()
        await screenshot(mine, "participant")
        await participant.close()
