"""Accumulation windows through the API (issue 20): the 国办函〔2020〕109号 per-request tariff
counts per applicant per natural month (Beijing) across orders; the per-page tariff per order;
units held by an order that ends unpaid go back; two concurrent orders cannot both take the
free tier."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.api.factories import Api
from tests.api.pricing_factories import (
    PER_PAGE,
    PER_REQUEST,
    at_beijing,
    buy,
    next_month_day,
    order,
    public_resource,
    publish_examples,
    quote,
    tariff_product,
)

YUAN = 100  # fen


async def test_per_request_tiers_add_up_over_a_month_and_restart_next_month(
    api: Api, client: Any, app: Any
) -> None:
    at_beijing(*next_month_day(3))
    await publish_examples(api, client)
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    product = await tariff_product(api, client, app, seller)

    # Art. 4: 1–10 free, 11–30 at 100, 31–40 at 200, 41–50 at 300, in four orders of one month.
    totals = []
    for quantity in (10, 10, 15, 15):
        bought = await buy(client, buyer, operator, product, quantity)
        totals.append(bought["quote"]["total_minor"])
    assert totals == [0, 1_000 * YUAN, (10 * 100 + 5 * 200) * YUAN, (5 * 200 + 10 * 300) * YUAN]
    # Fifty at once cost what the four orders did (the window's running total, to the fen).
    other = await api.org(roles=("buyer",))
    at_once = await quote(client, other, product, 50)
    assert at_once.json()["total_minor"] == sum(totals) == 7_000 * YUAN

    second = await quote(client, buyer, product, 5)
    body = second.json()
    assert body["window"]["prior_units"] == 50 and body["window"]["key"].startswith("month:")
    assert body["unit"] == "per_request"
    assert body["total_minor"] == 5 * 400 * YUAN  # 51–60: the band after 41–50, 100 dearer
    assert "requests 51–55 this month" in body["lines"][0]["description"]
    assert "50 requests already counted" in body["lines"][0]["reason"]

    at_beijing(*next_month_day(1))
    again = await quote(client, buyer, product, 10)
    assert again.json()["total_minor"] == 0 and again.json()["window"]["prior_units"] == 0
    eleventh = await buy(client, buyer, operator, product, 10)
    assert eleventh["quote"]["total_minor"] == 0
    assert (await quote(client, buyer, product, 1)).json()["total_minor"] == 100 * YUAN


async def test_window_is_one_operator_tariff_across_its_products_and_per_buyer(
    api: Api, client: Any, app: Any
) -> None:
    at_beijing(*next_month_day(5))
    await publish_examples(api, client)
    seller, buyer, neighbour = (
        await api.org(),
        await api.org(roles=("buyer",)),
        await api.org(roles=("buyer",)),
    )
    operator = await api.staff("operator")
    resource = await public_resource(api, client, app, seller)
    first = await tariff_product(api, client, app, seller, resource=resource)
    second = await tariff_product(api, client, app, seller, resource=resource)
    await buy(client, buyer, operator, first, 10)
    assert (await quote(client, buyer, second, 1)).json()["total_minor"] == 100 * YUAN
    assert (await quote(client, neighbour, second, 1)).json()["total_minor"] == 0


async def test_per_page_tariff_counts_each_application_alone(api: Api, client: Any, app: Any) -> None:
    at_beijing(*next_month_day(7))
    await publish_examples(api, client)
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    product = await tariff_product(api, client, app, seller, PER_PAGE)
    # Art. 5: 1–30 free, 31–100 at 10, 101–200 at 20, 201+ at 40; 250 pages:
    expected = (70 * 10 + 100 * 20 + 50 * 40) * YUAN
    for _ in range(2):
        bought = await buy(client, buyer, operator, product, 250)
        assert bought["quote"]["total_minor"] == expected
        assert bought["quote"]["window"] is None


async def test_free_purpose_pays_nothing_and_uses_none_of_the_tiers(api: Api, client: Any, app: Any) -> None:
    at_beijing(*next_month_day(9))
    await publish_examples(api, client)
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    product = await tariff_product(api, client, app, seller)
    welfare = await buy(client, buyer, operator, product, 40, purpose="public_welfare")
    assert welfare["quote"]["total_minor"] == 0 and welfare["quote"]["window"]["units"] == 0
    assert (await quote(client, buyer, product, 10)).json()["total_minor"] == 0


async def test_a_cancelled_order_gives_its_units_back(api: Api, client: Any, app: Any) -> None:
    at_beijing(*next_month_day(11))
    await publish_examples(api, client)
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    product = await tariff_product(api, client, app, seller)
    q = await quote(client, buyer, product, 20)
    placed = await order(client, buyer, q.json()["id"])
    assert placed.status_code == 201, placed.text
    # While the order waits for payment its units are held: the next quote starts at 21.
    assert (await quote(client, buyer, product, 1)).json()["window"]["prior_units"] == 20
    cancelled = await client.post(
        f"/v1/orders/{placed.json()['id']}/cancellation",
        headers=buyer.headers,
        json={"reason": "changed mind"},
    )
    assert cancelled.status_code == 200, cancelled.text
    assert (await quote(client, buyer, product, 10)).json()["total_minor"] == 0


async def test_a_quote_priced_before_another_order_is_stale(api: Api, client: Any, app: Any) -> None:
    at_beijing(*next_month_day(13))
    await publish_examples(api, client)
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    product = await tariff_product(api, client, app, seller)
    early, late = await quote(client, buyer, product, 10), await quote(client, buyer, product, 10)
    placed = await order(client, buyer, early.json()["id"])
    assert placed.status_code == 201 and placed.json()["window_units"] == 10
    assert placed.json()["window_key"] == early.json()["window"]["key"]
    stale = await order(client, buyer, late.json()["id"])
    assert stale.status_code == 409 and stale.json()["type"].endswith("/quote-stale"), stale.text
    assert stale.json()["errors"][0]["field"] == "body.quote_id"


async def test_two_concurrent_orders_cannot_both_take_the_free_tier(
    api: Api, client: Any, app: Any, backend: str
) -> None:
    """Each product's row lock does not serialise them (two products); the buyer's window row
    does (SELECT ... FOR UPDATE on PostgreSQL, the writer lock on SQLite)."""
    at_beijing(*next_month_day(15))
    await publish_examples(api, client)
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    resource = await public_resource(api, client, app, seller)
    products = [await tariff_product(api, client, app, seller, resource=resource) for _ in range(2)]
    quotes = [(await quote(client, buyer, p, 10)).json() for p in products]
    assert [q["total_minor"] for q in quotes] == [0, 0]
    placed = await asyncio.gather(*(order(client, buyer, q["id"]) for q in quotes))
    assert sorted(r.status_code for r in placed) == [201, 409], [r.text for r in placed]
    assert (await quote(client, buyer, products[0], 1)).json()["total_minor"] == 100 * YUAN


async def test_price_entry_declares_its_window(api: Api, client: Any) -> None:
    authority = await api.staff("price_authority")
    body = {
        "entry_key": "JL-PUB-YEARLY",
        "data_class": "yearly_counted",
        "unit": "件",
        "mode": "ceiling",
        "accumulation": "counterparty_year",
        "tiers": [{"first_unit": 1, "unit_price": "5", "band_size": 100, "band_step": "1"}],
        "effective_from": "2026-01-01T00:00:00Z",
        "legal_basis": "发改价格〔2025〕65号",
    }
    r = await client.post("/v1/price-catalogue", json=body, headers=authority)
    assert r.status_code == 201, r.text
    assert r.json()["body"]["accumulation"] == "counterparty_year"
    assert r.json()["body"]["unit"] == "per_request"
    bad = await client.post(
        "/v1/price-catalogue",
        json={**body, "entry_key": "X-BAD", "accumulation": "per_week"},
        headers=authority,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.accumulation"
    assert PER_REQUEST.accumulation.value == "counterparty_month"


async def test_a_full_refund_gives_the_units_and_the_revenue_back(api: Api, client: Any, app: Any) -> None:
    """Paid, unrefunded units count: refunded in full, the order's units leave the window (later
    orders are not re-priced), and its fees leave the product's revenue (发改价格〔2025〕65号)."""
    year, month, day = next_month_day(17)
    at_beijing(year, month, day)
    authority = await publish_examples(api, client)
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    product = await tariff_product(api, client, app, seller)
    cap = {"operating_cost_minor": 100_000 * YUAN, "permitted_profit_minor": 0, "tax_minor": 0}
    assert (
        await client.put(f"/v1/revenue-caps/{product}/{year}", headers=authority, json=cap)
    ).status_code == 200
    await buy(client, buyer, operator, product, 10)
    paid = await buy(client, buyer, operator, product, 10)
    assert paid["quote"]["total_minor"] == 1_000 * YUAN
    revenue = (await client.get(f"/v1/revenue-caps/{product}/{year}", headers=operator)).json()
    assert revenue["revenue_minor"] == 1_000 * YUAN
    refunded = await client.post(
        f"/v1/orders/{paid['order']['id']}/refund",
        headers={**operator, "Idempotency-Key": "refund-window-units"},
        json={"reason": "request withdrawn"},
    )
    assert refunded.status_code == 201, refunded.text
    assert (await client.get(f"/v1/orders/{paid['order']['id']}", headers=buyer.headers)).json()[
        "status"
    ] == "refunded"
    again = await quote(client, buyer, product, 10)
    assert again.json()["window"]["prior_units"] == 10 and again.json()["total_minor"] == 1_000 * YUAN
    revenue = (await client.get(f"/v1/revenue-caps/{product}/{year}", headers=operator)).json()
    assert revenue["revenue_minor"] == 0
