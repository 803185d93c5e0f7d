"""A buyer in a real browser (the distribution's Chromium through Playwright) against a live
server: from the catalogue to a product's page, a quote, an order paid from the prepaid balance
(topped up by bank transfer an operator confirmed), the licence, and the file downloaded with
the very bytes the seller uploaded; then an API key created (shown once) and revoked, all with
the keyboard-labelled forms."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests.api.console_buyer_factories import file_for_sale
from tests.api.factories import Api
from tests.api.live_console import chromium, live_server, needs_chromium, screenshot
from tests.api.prepaid_factories import balance
from tests.api.test_console_browser import log_in, only_loopback

pytestmark = [needs_chromium, pytest.mark.browser]


async def test_buyer_buys_a_file_from_the_balance_downloads_it_and_manages_a_key(
    api: Api, client: Any, app: Any
) -> None:
    sale = await file_for_sale(api, balance_minor=50_000)
    title = (await client.get(f"/v1/products/{sale.product_id}")).json()["title"]
    async with live_server(app) as base, chromium(base) as context:
        page = await context.new_page()
        elsewhere = only_loopback(page, base)
        await log_in(page, sale.buyer.email)
        assert page.url.endswith("/console/me")
        await page.goto("/")
        await page.get_by_role("link", name=title).first.click()
        await page.wait_for_load_state()
        assert await page.locator("#product-title").inner_text() == title
        await page.get_by_label("Quantity").fill("1")
        await page.get_by_label("Purpose").select_option("risk_control")
        await page.get_by_label("Scenario").select_option("credit risk scoring")
        await screenshot(page, "participant-product")
        await page.get_by_role("button", name="Get a quote").click()
        await page.wait_for_load_state()
        assert "¥100.00" in await page.locator("#quote-total").inner_text()
        await page.get_by_label("Prepaid balance (completes at once)").check()
        await screenshot(page, "participant-quote")
        await page.get_by_role("button", name="Place the order").click()
        await page.wait_for_load_state()
        assert await page.locator("#order-status").inner_text() == "delivered"
        assert "Order placed" in await page.locator(".flash").inner_text()
        await page.locator("#order-licence").click()
        await page.wait_for_load_state()
        files = page.locator("#licence-files")
        assert hashlib.sha256(sale.content).hexdigest() in await files.inner_text()
        await screenshot(page, "participant-licence")
        async with page.expect_download() as started:
            await page.get_by_role("link", name=f"Download {sale.name}").click()
        download = await started.value
        saved = await download.path()
        assert saved is not None and await asyncio.to_thread(Path(saved).read_bytes) == sale.content
        assert download.suggested_filename == sale.name
        # The completed download is recorded once its last byte is sent (its own transaction).
        for _ in range(20):
            await page.reload()
            if await page.locator("#downloads-done").inner_text() == "1":
                break
            await asyncio.sleep(0.1)
        assert await page.locator("#downloads-done").inner_text() == "1"

        # An API key: created with the form, its secret shown once, then revoked.
        await page.goto("/console/me")
        await page.get_by_label("Name", exact=True).fill("etl-nightly")
        await page.get_by_role("button", name="Create an API key").click()
        await page.wait_for_load_state()
        secret = await page.locator("#secret").input_value()
        assert secret.startswith("mk_")
        assert (await client.get("/v1/auth/me", headers={"X-API-Key": secret})).status_code == 200
        await page.get_by_role("link", name="Back to my exchange").click()
        await page.wait_for_load_state()
        assert secret not in await page.content()
        await screenshot(page, "participant-keys")
        await page.get_by_role("button", name="Revoke etl-nightly").click()
        await page.wait_for_load_state()
        assert "API key revoked" in await page.locator(".flash").inner_text()
        assert await page.locator("#my-keys .key-status").first.inner_text() == "Revoked"
        assert elsewhere == [], f"the console reached other hosts: {elsewhere}"
    assert (await client.get("/v1/auth/me", headers={"X-API-Key": secret})).status_code == 401
    assert await balance(api, sale.buyer, sale.account_id) == 40_000
