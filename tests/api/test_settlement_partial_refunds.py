"""A partial refund has effect on the licence, as its terms say: its quota (or, without one, its
term) shrinks in proportion to what is still paid, never compounding over several refunds; or
the licence ends. Books balanced at each end."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.api.factories import Api
from tests.api.settlement_factories import books_balance, key, sale

TOTAL = 30_000


async def refund(client: Any, operator: dict[str, str], order_id: str, amount: int) -> None:
    r = await client.post(
        f"/v1/orders/{order_id}/refund",
        json={"reason": "part of the data was missing", "amount_minor": amount},
        headers={**operator, **key()},
    )
    assert r.status_code == 201 and r.json()["status"] == "succeeded", r.text


async def test_a_partial_refund_reduces_the_call_quota_in_proportion(api: Api, client: Any, app: Any) -> None:
    seller, buyer, operator, _product, order = await sale(api, total_minor=TOTAL, quota=1_000)
    licence_id = order["licence_id"]
    credential = (await client.get(f"/v1/deliveries/{licence_id}", headers=buyer.headers)).json()[
        "access_credential"
    ]
    gateway = {"X-Delivery-Credential": credential}
    used = await client.post(f"/v1/deliveries/{licence_id}/usage", json={"calls": 600}, headers=gateway)
    assert used.status_code == 200

    await refund(client, operator, order["id"], 10_000)  # a third back: 2/3 of 1,000 calls
    licence = (await client.get(f"/v1/licences/{licence_id}", headers=buyer.headers)).json()
    assert licence["status"] == "active" and licence["terms"]["quota"] == 666
    assert any("quota reduced from 1000 to 666" in a for a in licence["terms"]["adjustments"])
    odrl = (await client.get(f"/v1/licences/{licence_id}/odrl", headers=buyer.headers)).text
    assert "666" in odrl
    over = await client.post(f"/v1/deliveries/{licence_id}/usage", json={"calls": 67}, headers=gateway)
    assert over.status_code == 429
    delivery = (await client.get(f"/v1/deliveries/{licence_id}", headers=buyer.headers)).json()
    assert (delivery["call_quota"], delivery["calls_remaining"]) == (666, 66)

    await refund(client, operator, order["id"], 5_000)  # half back in all: from the issued 1,000
    licence = (await client.get(f"/v1/licences/{licence_id}", headers=buyer.headers)).json()
    assert licence["terms"]["quota"] == 500
    assert (
        await client.post(f"/v1/deliveries/{licence_id}/usage", json={"calls": 1}, headers=gateway)
    ).status_code == 429
    totals = await books_balance(api, operator)
    assert totals[seller.participant_id]["refunded_minor"] == 15_000


async def test_without_a_quota_the_term_is_shortened(api: Api, client: Any, app: Any) -> None:
    _seller, buyer, operator, _product, order = await sale(api, total_minor=TOTAL)
    before = (await client.get(f"/v1/licences/{order['licence_id']}", headers=buyer.headers)).json()
    await refund(client, operator, order["id"], 7_500)  # a quarter back
    after = (await client.get(f"/v1/licences/{order['licence_id']}", headers=buyer.headers)).json()
    start, end = datetime.fromisoformat(before["valid_from"]), datetime.fromisoformat(before["valid_to"])
    assert datetime.fromisoformat(after["valid_to"]) - start == (end - start) * 3 / 4
    assert datetime.fromisoformat(after["terms"]["valid_to"]) == datetime.fromisoformat(after["valid_to"])
    assert after["status"] == "active" and end - datetime.fromisoformat(after["valid_to"]) > timedelta(
        days=90
    )
    await books_balance(api, operator)


async def test_a_licence_whose_terms_say_so_ends_with_a_partial_refund(
    api: Api, client: Any, app: Any
) -> None:
    _seller, buyer, operator, _product, order = await sale(api, total_minor=TOTAL, on_partial_refund="end")
    await refund(client, operator, order["id"], 1_000)
    licence = (await client.get(f"/v1/licences/{order['licence_id']}", headers=buyer.headers)).json()
    assert licence["status"] == "inactive" and "partial refund" in licence["status_reason"]
    assert (
        await client.get(f"/v1/deliveries/{order['licence_id']}", headers=buyer.headers)
    ).status_code == 410
    assert (await client.get(f"/v1/orders/{order['id']}", headers=buyer.headers)).json()[
        "status"
    ] == "terminated"
    await books_balance(api, operator)
