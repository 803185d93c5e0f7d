"""Operators' case pages in a real browser (the distribution's Chromium through Playwright),
against a live server on loopback: from the queues, an operator lists a listing the rules parked
and verifies a participant, with the keyboard-reachable, labelled forms alone."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.api.case_factories import parked_listing
from tests.api.console_factories import staff_email
from tests.api.factories import Api
from tests.api.live_console import chromium, live_server, needs_chromium, screenshot
from tests.api.test_console_browser import log_in, only_loopback

pytestmark = [needs_chromium, pytest.mark.browser]


async def test_operator_lists_a_parked_listing_in_the_browser(api: Api, client: Any, app: Any) -> None:
    seller = await api.org(name="长春数据公司")
    product_id = await parked_listing(api, seller, title="吉林重要数据指数")
    operator = await staff_email(app, "operator")
    async with live_server(app) as base, chromium(base) as context:
        page = await context.new_page()
        elsewhere = only_loopback(page, base)
        await log_in(page, operator)
        assert await page.locator('tr[data-queue="listings_to_review"] .count').inner_text() == "1"
        await page.get_by_role("link", name="Listings to review").click()
        await page.get_by_role("link", name="吉林重要数据指数").click()
        assert await page.locator("#listing-status").inner_text() == "needs_review"
        assert "(DATA-002)" in await page.locator("#findings").inner_text()
        # The browser itself holds back a form without a choice or a reason (required fields).
        await page.get_by_role("button", name="Submit").click()
        assert await page.locator("#listing-status").inner_text() == "needs_review"
        await page.get_by_label("List", exact=True).check()
        await page.get_by_label("Reason").fill("scenario and rights in order")
        await screenshot(page, "operator-listing-case")
        await page.get_by_label("Reason").press("Tab")
        await page.keyboard.press("Enter")  # the submit button is next in the tab order
        await expect(page.locator("#listing-status")).to_have_text("listed", timeout=20_000)
        assert "Decision recorded" in await page.locator(".flash").inner_text()
        assert "listing.listed" in await page.locator("#history").inner_text()
        assert elsewhere == [], f"the console reached other hosts: {elsewhere}"
    api_view = (await client.get(f"/v1/products/{product_id}", headers=seller.headers)).json()
    assert api_view["listing_status"] == "listed"


async def test_operator_verifies_a_participant_in_the_browser(api: Api, client: Any, app: Any) -> None:
    newcomer = await api.org(name="松原数据公司", verified=False)
    operator = await staff_email(app, "operator")
    async with live_server(app) as base, chromium(base) as context:
        page = await context.new_page()
        await log_in(page, operator)
        assert await page.locator('tr[data-queue="participant_verifications"] .count').inner_text() == "1"
        await page.get_by_role("link", name="Participant verifications").click()
        await page.get_by_role("link", name="松原数据公司").click()
        assert await page.locator("#verification-status").inner_text() == "pending_verification"
        await page.get_by_label("Documents relied on (one per line)").fill("business-licence.pdf")
        for item in ("Business licence, credit code or mandate seen", "Legal representative checked"):
            await page.get_by_label(item).check()
        await page.get_by_label("Reason").fill("licence and representative checked")
        await page.get_by_label("Verify", exact=True).check()
        await page.get_by_role("button", name="Submit").click()
        # Two checklist items unticked: the service refuses, saying which.
        await expect(page.locator(".flash")).to_contain_text(
            "every checklist item must be done", timeout=20_000
        )
        assert await page.locator("#verification-status").inner_text() == "pending_verification"
        await page.get_by_label("Documents relied on (one per line)").fill("business-licence.pdf")
        for item in (
            "Business licence, credit code or mandate seen",
            "Legal representative checked",
            "Contact person and address answer",
            "Intended use checked",
        ):
            await page.get_by_label(item).check()
        await page.get_by_label("Reason").fill("licence, representative, contact and use checked")
        await page.get_by_label("Verify", exact=True).check()
        await screenshot(page, "operator-verification-case")
        await page.get_by_role("button", name="Submit").click()
        await expect(page.locator("#verification-status")).to_have_text("verified", timeout=20_000)
        assert "participant.verified" in await page.locator("#history").inner_text()
    me = (await client.get(f"/v1/participants/{newcomer.participant_id}", headers=newcomer.headers)).json()
    assert me["verification_status"] == "verified"
