"""Random allocation run by the exchange (Art. 70, issue 20): the seed's hash is published
before the window, participants enter, the seed is revealed after and anyone recomputes the
winners; a quote takes the result from the exchange, never from the buyer, and a win is used
once."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from market.common import clock
from pricing import AllocationResult, draw
from tests.api.factories import Api
from tests.api.test_catalog_products import listed

RULE = "JL-DRAW-2026-001"
PLAN = {
    "kind": "fixed",
    "unit_price": "100.00",
    "currency": "CNY",
    "discounts": [{"kind": "random_allocation", "rule_id": RULE, "pct": "90"}],
}


async def quote(client: Any, headers: dict[str, str], product_id: str, **extra: Any) -> Any:
    return await client.post(
        "/v1/quotes",
        headers=headers,
        json={
            "product_id": product_id,
            "quantity": 1,
            "purpose": "risk_control",
            "scenario": "credit risk scoring",
            **extra,
        },
    )


async def test_the_exchange_draws_and_the_buyer_cannot_choose_the_result(
    api: Api, client: Any, app: Any
) -> None:
    seller, operator = await api.org(), await api.staff("operator")
    buyers = [await api.org(roles=("buyer",)) for _ in range(3)]
    product = (await listed(api, client, app, seller, price_plan=PLAN))["id"]
    opens, closes = clock.now() + timedelta(hours=1), clock.now() + timedelta(hours=2)
    body = {
        "product_id": product,
        "winners_wanted": 1,
        "opens_at": opens.isoformat(),
        "closes_at": closes.isoformat(),
    }
    assert (await client.post("/v1/allocations", headers=seller.headers, json=body)).status_code == 403
    announced = await client.post("/v1/allocations", headers=operator, json=body)
    assert announced.status_code == 201, announced.text
    draw_id, commitment = announced.json()["id"], announced.json()["commitment"]
    public = (await client.get(f"/v1/allocations/{draw_id}")).json()  # no credentials
    assert public["commitment"] == commitment and public["seed"] is None and public["winners"] is None

    # The buyer saying it won is refused; without a draw won, no discount.
    claimed = await quote(client, buyers[0].headers, product, lottery_won=True)
    assert claimed.status_code == 422 and claimed.json()["errors"][0]["field"] == "body.lottery_won"
    assert (await quote(client, buyers[0].headers, product)).json()["total_minor"] == 10_000

    early = await client.post(f"/v1/allocations/{draw_id}/entries", headers=buyers[0].headers)
    assert early.status_code == 409  # the window is not open yet
    clock.advance(timedelta(hours=1, minutes=1))
    for b in buyers:
        entered = await client.post(f"/v1/allocations/{draw_id}/entries", headers=b.headers)
        assert entered.status_code == 201, entered.text
    again = await client.post(f"/v1/allocations/{draw_id}/entries", headers=buyers[0].headers)
    assert again.status_code == 409
    assert (await client.post(f"/v1/allocations/{draw_id}/reveal", headers=operator)).status_code == 409
    assert (await client.get(f"/v1/allocations/{draw_id}")).json()["seed"] is None

    clock.advance(timedelta(hours=1))
    revealed = await client.post(f"/v1/allocations/{draw_id}/reveal", headers=operator)
    assert revealed.status_code == 200, revealed.text
    shown = (await client.get("/v1/allocations", params={"product_id": product})).json()[0]
    # Anyone recomputes: the seed matches the commitment and gives these winners.
    assert hashlib.sha256(bytes.fromhex(shown["seed"])).hexdigest() == commitment
    assert sorted(shown["entrants"]) == sorted(b.participant_id for b in buyers)
    assert shown["winners"] == list(draw(shown["seed"], shown["entrants"], 1))
    AllocationResult.model_validate(shown["result"])
    winner = next(b for b in buyers if b.participant_id == shown["winners"][0])
    loser = next(b for b in buyers if b is not winner)

    won = await quote(client, winner.headers, product)
    assert won.json()["total_minor"] == 1_000, won.text
    assert [line["code"] for line in won.json()["lines"]][-1] == "random_allocation"
    assert draw_id in won.json()["lines"][-1]["reason"]
    assert (await quote(client, loser.headers, product)).json()["total_minor"] == 10_000

    ordered = await client.post(
        "/v1/orders",
        json={"quote_id": won.json()["id"]},
        headers={**winner.headers, "Idempotency-Key": "winner-order-1"},
    )
    assert ordered.status_code == 201, ordered.text
    assert ordered.json()["allocation_draw_id"] == draw_id
    # The win is used once: the next quote is at full price.
    assert (await quote(client, winner.headers, product)).json()["total_minor"] == 10_000
    fairness = await client.get(f"/v1/products/{product}/fairness", headers=operator)
    assert fairness.status_code == 200 and fairness.json() == [], fairness.text


async def test_a_draw_needs_a_random_allocation_discount_and_a_future_window(
    api: Api, client: Any, app: Any
) -> None:
    seller, operator = await api.org(), await api.staff("operator")
    plain = (await listed(api, client, app, seller))["id"]
    later = clock.now() + timedelta(hours=1)
    body = {
        "product_id": plain,
        "winners_wanted": 1,
        "opens_at": later.isoformat(),
        "closes_at": (later + timedelta(hours=1)).isoformat(),
    }
    no_discount = await client.post("/v1/allocations", headers=operator, json=body)
    assert no_discount.status_code == 422 and no_discount.json()["errors"][0]["field"] == "body.product_id"
    product = (await listed(api, client, app, seller, price_plan=PLAN))["id"]
    past = {**body, "product_id": product, "opens_at": (clock.now() - timedelta(hours=1)).isoformat()}
    assert (await client.post("/v1/allocations", headers=operator, json=past)).status_code == 422
    backwards = {**body, "product_id": product, "closes_at": later.isoformat()}
    assert (await client.post("/v1/allocations", headers=operator, json=backwards)).status_code == 422
    naive = {**body, "product_id": product, "opens_at": "2030-01-01T00:00:00"}
    refused = await client.post("/v1/allocations", headers=operator, json=naive)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "body.opens_at"
