"""Alerts raised by real trades through the API, and their audited acknowledgement."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from market.common import clock
from market.orders.models import Order
from market.orders.repository import recent_product_totals
from market.participants.credit_code import credit_code_check_char
from market.settings import Thresholds
from tests.api.compliance_factories import listed_product
from tests.api.factories import Api
from tests.api.jobs import app_of, drain
from tests.api.orders_factories import sealed_quote


async def order(client: Any, buyer: Any, quote_id: str) -> Any:
    return await client.post(
        "/v1/orders",
        json={"quote_id": quote_id},
        headers={**buyer.headers, "Idempotency-Key": f"alert-{uuid.uuid4().hex}"},
    )


async def alerts(client: Any, operator: dict[str, str], rule: str) -> list[dict[str, Any]]:
    """The alerts after the scans queued by the orders so far have run (they run as jobs, after
    the buyer's request has committed)."""
    await drain(app_of(client))
    return await alerts_now(client, operator, rule)


async def alerts_now(client: Any, operator: dict[str, str], rule: str) -> list[dict[str, Any]]:
    return list((await client.get(f"/v1/alerts?rule={rule}", headers=operator)).json()["items"])


async def test_related_party_and_round_trip_alerts_and_acknowledgement(
    api: Api, client: Any, app: Any
) -> None:
    operator = await api.staff("operator")
    seller = await api.org()
    assert seller.credit_code is not None
    first17 = "91220200" + seller.credit_code[8:17]  # another registration, same organisation code
    sibling = await api.org(roles=("buyer", "seller"), credit_code=first17 + credit_code_check_char(first17))
    stranger = await api.org(roles=("buyer",))
    product = await listed_product(app, seller.participant_id)
    assert (
        await order(client, stranger, await sealed_quote(app, product["product_id"], stranger.participant_id))
    ).status_code == 201
    assert await alerts(client, operator, "related_party") == []  # a normal trade: silent
    r = await order(client, sibling, await sealed_quote(app, product["product_id"], sibling.participant_id))
    assert r.status_code == 201
    assert await alerts_now(client, operator, "related_party") == []  # not inside the buyer's request
    related = await alerts(client, operator, "related_party")
    assert len(related) == 1 and related[0]["evidence"]["order_id"] == r.json()["id"]
    back = await listed_product(app, sibling.participant_id)
    await order(client, seller, await sealed_quote(app, back["product_id"], seller.participant_id))
    assert len(await alerts(client, operator, "round_trip")) == 1
    alert_id = related[0]["id"]
    assert (await client.get("/v1/alerts", headers=seller.headers)).status_code == 403
    ack = await client.post(
        f"/v1/alerts/{alert_id}/acknowledgement",
        headers=operator,
        json={"reason": "group companies, disclosed in filing 2026-17"},
    )
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    again = await client.post(
        f"/v1/alerts/{alert_id}/acknowledgement", headers=operator, json={"reason": "again"}
    )
    assert again.status_code == 409
    auditor = await api.staff("auditor")
    acked = (await client.get("/v1/audit/entries?action=alert.acknowledged", headers=auditor)).json()["items"]
    assert acked and acked[0]["payload"]["alert_id"] == alert_id


async def test_burst_and_repeated_refusals(api: Api, client: Any, app: Any) -> None:
    operator = await api.staff("operator")
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    for _ in range(5):
        product = await listed_product(app, seller.participant_id)
        await order(client, buyer, await sealed_quote(app, product["product_id"], buyer.participant_id))
    burst = await alerts(client, operator, "purchase_burst")
    assert len(burst) == 1 and burst[0]["subject_id"] == buyer.participant_id
    # Refused by the trade rules each time (a scenario the product does not declare); a
    # blacklisted buyer no longer gets this far: blacklisting ends its sessions (issue 18).
    shady = await api.org(roles=("buyer",))
    product = await listed_product(app, seller.participant_id)
    for _ in range(3):
        quote = await sealed_quote(
            app, product["product_id"], shady.participant_id, scenario="undeclared resale"
        )
        refused = await order(client, shady, quote)
        assert refused.status_code == 403
    retries = await alerts(client, operator, "repeated_refusals")
    assert len(retries) == 1 and len(retries[0]["evidence"]["audit_entries"]) == 3


async def test_a_price_is_judged_against_the_products_latest_orders(api: Api, client: Any, app: Any) -> None:
    operator = await api.staff("operator")
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    product = await listed_product(app, seller.participant_id)
    ids = []
    for total in (10_000, 10_000, 10_000, 40_000, 41_000):
        clock.advance(timedelta(days=2))  # apart, so no purchase burst either
        quote = await sealed_quote(app, product["product_id"], buyer.participant_id, total_minor=total)
        placed = await order(client, buyer, quote)
        assert placed.status_code == 201, placed.text
        ids.append(placed.json()["id"])
    outliers = await alerts(client, operator, "price_outlier")
    # Silent while the price holds; 40,000 against a median of 10,000 is flagged, and so is
    # 41,000 (its history 40,000 + 3 x 10,000 still has a median of 10,000).
    assert {a["evidence"]["order_id"] for a in outliers} == set(ids[3:])
    async with app.state.sessionmaker() as session:
        last = await session.get(Order, uuid.UUID(ids[-1]))
        assert last is not None
        assert await recent_product_totals(session, last, 2) == (40_000, 10_000)
        assert await recent_product_totals(session, last, 200) == (40_000, 10_000, 10_000, 10_000)


async def test_configured_thresholds_decide_what_is_abnormal(api: Api, client: Any, app: Any) -> None:
    operator = await api.staff("operator")
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    runtime = app.state.runtime
    default_settings = runtime.settings
    # As MARKET_ALERT_THRESHOLDS='{"burst_orders": 2}' configures it for the app.
    runtime.settings = default_settings.model_copy(update={"alert_thresholds": Thresholds(burst_orders=2)})
    try:
        for _ in range(2):
            product = await listed_product(app, seller.participant_id)
            await order(client, buyer, await sealed_quote(app, product["product_id"], buyer.participant_id))
        await drain(app)  # the scans read the thresholds of the process that runs them
    finally:
        runtime.settings = default_settings
    burst = await alerts(client, operator, "purchase_burst")
    assert len(burst) == 1 and burst[0]["subject_id"] == buyer.participant_id  # the default needs 5
