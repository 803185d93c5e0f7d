"""Revenue caps (发改价格〔2025〕65号, issue 20): the price authority records a product's maximum
permitted revenue for a year; payments move revenue against it; operators are alerted at 80 %
and 100 %; after the year ends the excess is deducted from the next year's cap."""

from __future__ import annotations

from typing import Any

from market.revenue_caps.jobs import close_years
from tests.api.factories import Api
from tests.api.jobs import run
from tests.api.pricing_factories import (
    PER_PAGE,
    at_beijing,
    buy,
    next_month_day,
    publish_examples,
    tariff_product,
)

YUAN = 100
SALE = (70 * 10 + 100 * 20 + 50 * 40) * YUAN  # 250 pages under 国办函〔2020〕109号 Art. 5
CAP = {"operating_cost_minor": 8_000 * YUAN, "permitted_profit_minor": 1_500 * YUAN, "tax_minor": 500 * YUAN}


async def test_revenue_against_the_cap_alerts_and_carries_the_excess(api: Api, client: Any, app: Any) -> None:
    year, month, day = next_month_day(2)
    at_beijing(year, month, day)
    authority = await publish_examples(api, client)
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    product = await tariff_product(api, client, app, seller, PER_PAGE)
    url = f"/v1/revenue-caps/{product}/{year}"
    assert (await client.put(url, headers=seller.headers, json=CAP)).status_code == 403
    assert (await client.put(url, headers=operator, json=CAP)).status_code == 403
    odd = await client.put(url, headers=authority, json={**CAP, "currency": "XXX"})
    assert odd.status_code == 422 and odd.json()["errors"][0]["field"] == "body.currency"
    recorded = await client.put(url, headers=authority, json=CAP)
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["permitted_minor"] == 10_000 * YUAN and recorded.json()["deduction_minor"] == 0

    async def revenue_alerts() -> list[str]:
        page = (await client.get("/v1/alerts", headers=operator)).json()["items"]
        return sorted(a["rule"] for a in page if a["rule"].startswith("REVENUE-CAP"))

    await buy(client, buyer, operator, product, 250)
    assert await revenue_alerts() == []
    await buy(client, buyer, operator, product, 250)  # 94 %
    assert await revenue_alerts() == [f"REVENUE-CAP-80-{year}"]
    await buy(client, buyer, operator, product, 250)  # 141 %: sales go on, the excess is deducted
    assert await revenue_alerts() == [f"REVENUE-CAP-100-{year}", f"REVENUE-CAP-80-{year}"]
    position = (await client.get(url, headers=operator)).json()
    assert position["revenue_minor"] == 3 * SALE and position["excess_minor"] == 3 * SALE - 10_000 * YUAN
    assert position["reached_pct"] == [80, 100] and position["closed"] is False

    at_beijing(year + 1, 1, 3)
    assert await run(app, close_years) == 1
    closed = (await client.get(url, headers=operator)).json()
    assert closed["closed"] is True and closed["carried_forward_minor"] == 3 * SALE - 10_000 * YUAN
    following = await client.put(f"/v1/revenue-caps/{product}/{year + 1}", headers=authority, json=CAP)
    assert following.json()["deduction_minor"] == 3 * SALE - 10_000 * YUAN
    assert following.json()["permitted_minor"] == 10_000 * YUAN - (3 * SALE - 10_000 * YUAN)

    auditor = await api.staff("auditor")
    log = await client.get(
        "/v1/audit/entries", headers=auditor, params={"subject_type": "product", "subject_id": product}
    )
    actions = [e["action"] for e in log.json()["items"]]
    assert actions.count("revenue_cap.recorded") == 2 and actions.count("revenue_cap.threshold_crossed") == 2
    assert "revenue_cap.year_closed" in actions
