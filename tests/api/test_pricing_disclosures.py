"""Public disclosure (发改价格〔2025〕65号, issue 20): each paid public data product's price and
ceiling, and each year's report per operator, as JSON and CSV, to anyone."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.api.factories import Api
from tests.api.pricing_factories import (
    PER_PAGE,
    PER_REQUEST,
    at_beijing,
    buy,
    next_month_day,
    publish_examples,
    tariff_product,
)

YUAN = 100
SALE = (70 * 10 + 100 * 20 + 50 * 40) * YUAN


async def test_fees_and_the_annual_report_are_public_in_json_and_csv(api: Api, client: Any, app: Any) -> None:
    year, month, day = next_month_day(4)
    at_beijing(year, month, day)
    authority = await publish_examples(api, client)
    seller, buyer = await api.org(name="长春政务数据运营有限公司"), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    product = await tariff_product(api, client, app, seller, PER_PAGE)
    cap = {
        "operating_cost_minor": 80_000 * YUAN,
        "permitted_profit_minor": 15_000 * YUAN,
        "tax_minor": 5_000 * YUAN,
    }
    assert (
        await client.put(f"/v1/revenue-caps/{product}/{year}", headers=authority, json=cap)
    ).status_code == 200
    await buy(client, buyer, operator, product, 250)

    fees = await client.get("/v1/disclosures/fees")  # no credentials
    assert fees.status_code == 200, fees.text
    (mine,) = [f for f in fees.json() if f["product_id"] == product]
    assert mine["operator_name"] == "长春政务数据运营有限公司"
    assert mine["entry_key"] == PER_PAGE.entry_id and mine["mode"] == "ceiling"
    assert mine["legal_basis"].startswith("国办函〔2020〕109号")
    assert mine["ceiling_tiers"][-1] == {"first_unit": 201, "unit_price": "40"}
    as_csv = await client.get("/v1/disclosures/fees", params={"format": "csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert any(r["product_id"] == product and r["entry_key"] == PER_PAGE.entry_id for r in rows)

    report = await client.get(f"/v1/disclosures/annual/{year}")
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["due_by"] == f"{year + 1}-03-31"
    assert {PER_REQUEST.entry_id, PER_PAGE.entry_id} <= {c["entry_key"] for c in body["ceilings"]}
    (op,) = [o for o in body["operators"] if o["operator_id"] == seller.participant_id]
    assert op["credit_code"] == seller.credit_code
    assert [r["mandate_document"] for r in op["authorised_resources"]] == ["吉政数授〔2026〕1号"]
    (sold,) = op["products"]
    assert sold["product_id"] == product and sold["fees_charged_minor"] == SALE
    assert sold["permitted_revenue_minor"] == 100_000 * YUAN and sold["excess_minor"] == 0
    by_accept = await client.get(f"/v1/disclosures/annual/{year}", headers={"Accept": "text/csv"})
    assert by_accept.headers["content-type"].startswith("text/csv")
    (line,) = [r for r in csv.DictReader(io.StringIO(by_accept.text)) if r["product_id"] == product]
    assert line["fees_charged_minor"] == str(SALE) and line["operator_name"] == "长春政务数据运营有限公司"
    earlier = (await client.get(f"/v1/disclosures/annual/{year - 5}")).json()
    assert all(o["operator_id"] != seller.participant_id for o in earlier["operators"])
    assert (await client.get("/v1/disclosures/annual/1999")).status_code == 422
