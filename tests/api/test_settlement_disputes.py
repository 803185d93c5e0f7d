"""Disputes end to end: the buyer opens one within the window (freezing the payout), the seller
answers, an operator resolves it (partial refund, full refund, rejection) with a reason; the
deadlines are working days of the exchange's calendar; overdue ones alert; card disputes come
from Stripe and are decided by its outcome. Every scenario ends with the books balanced."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from market.common import clock
from market.payments.jobs import flag_overdue_disputes
from market.registry.workdays import add_working_days, load_calendar, local_day
from tests.api.factories import Api
from tests.api.settlement_factories import books_balance, key, payout_of, sale

TOTAL, COMMISSION = 36_500, 1_825
PROCEEDS = TOTAL - COMMISSION


async def disputed(
    api: Api, quota: int | None = None
) -> tuple[Any, Any, dict[str, str], dict[str, Any], dict[str, Any]]:
    """A paid, delivered order (of a product with `quota` calls) that its buyer disputes."""
    template = {} if quota is None else {"quota": quota}
    seller, buyer, operator, _product, order = await sale(api, total_minor=TOTAL, **template)
    opened = await api.client.post(
        "/v1/disputes",
        json={
            "order_id": order["id"],
            "reason": "not_as_described",
            "description": "half the fields are empty",
        },
        headers={**buyer.headers, **key("dispute")},
    )
    assert opened.status_code == 201, opened.text
    return seller, buyer, operator, order, opened.json()


async def test_buyer_disputes_within_the_window_and_an_operator_refunds_part(
    api: Api, client: Any, app: Any
) -> None:
    seller, buyer, operator, order, dispute = await disputed(api, quota=100)
    assert (dispute["status"], dispute["source"], dispute["reason"]) == ("open", "buyer", "not_as_described")
    # Deadlines count working days of the exchange's calendar, from the day after the dispute.
    opened = datetime.fromisoformat(dispute["created_at"])
    calendar = load_calendar()
    assert datetime.fromisoformat(dispute["respond_by"]) == add_working_days(opened, 5, calendar)
    assert datetime.fromisoformat(dispute["resolve_by"]) == add_working_days(opened, 10, calendar)
    assert (await client.get(f"/v1/orders/{order['id']}", headers=seller.headers)).json()[
        "status"
    ] == "disputed"
    frozen = await payout_of(api, seller.headers, order["id"])
    assert (frozen["status"], frozen["held_minor"]) == ("frozen", PROCEEDS)
    # Nothing moves while it is open: not the window, not the buyer's acceptance.
    clock.advance(timedelta(days=8))
    assert (
        await client.post(f"/v1/orders/{order['id']}/completion", headers=buyer.headers)
    ).status_code == 409
    assert (await payout_of(api, seller.headers, order["id"]))["status"] == "frozen"

    assert (await client.get(f"/v1/disputes/{dispute['id']}", headers=seller.headers)).status_code == 200
    stranger = await api.org()
    assert (await client.get(f"/v1/disputes/{dispute['id']}", headers=stranger.headers)).status_code == 404
    assert [d["id"] for d in (await client.get("/v1/disputes", headers=seller.headers)).json()["items"]] == [
        dispute["id"]
    ]
    by_buyer = await client.post(
        f"/v1/disputes/{dispute['id']}/response", json={"response": "it is complete"}, headers=buyer.headers
    )
    assert by_buyer.status_code == 403
    answered = await client.post(
        f"/v1/disputes/{dispute['id']}/response",
        json={"response": "the empty fields are optional by the schema"},
        headers=seller.headers,
    )
    assert answered.status_code == 200 and answered.json()["seller_response"].startswith("the empty")

    url = f"/v1/disputes/{dispute['id']}/resolution"
    partial = {
        "outcome": "refund_partial",
        "amount_minor": 10_950,
        "reason": "30 % of the records lack fields",
    }
    assert (await client.post(url, json=partial, headers=seller.headers)).status_code == 403
    too_much = await client.post(url, json={**partial, "amount_minor": TOTAL}, headers=operator)
    assert too_much.status_code == 422 and too_much.json()["errors"][0]["field"] == "body.amount_minor"
    resolved = await client.post(url, json=partial, headers=operator)
    assert resolved.status_code == 200, resolved.text
    assert (resolved.json()["status"], resolved.json()["refund_minor"]) == ("partially_refunded", 10_950)
    again = await client.post(url, json={"outcome": "reject", "reason": "changed my mind"}, headers=operator)
    assert again.status_code == 409

    after = (await client.get(f"/v1/orders/{order['id']}", headers=buyer.headers)).json()
    assert after["status"] == "delivered"
    licence = (await client.get(f"/v1/licences/{order['licence_id']}", headers=buyer.headers)).json()
    assert licence["status"] == "active" and licence["terms"]["quota"] == 70  # 70 % is still paid for
    commission_back = 548  # 5 % of 10,950, half-up
    due = await payout_of(api, seller.headers, order["id"])
    assert (due["status"], due["due_minor"]) == ("due", PROCEEDS - (10_950 - commission_back))
    totals = await books_balance(api, operator)
    assert totals[seller.participant_id]["refunded_minor"] == 10_950
    assert totals[seller.participant_id]["commission_minor"] == COMMISSION - commission_back


async def test_a_full_refund_ends_the_trade_and_a_rejection_lets_it_stand(
    api: Api, client: Any, app: Any
) -> None:
    seller, buyer, operator, order, dispute = await disputed(api)
    full = await client.post(
        f"/v1/disputes/{dispute['id']}/resolution",
        json={"outcome": "refund_full", "reason": "the data is not the registered data"},
        headers=operator,
    )
    assert full.status_code == 200 and full.json()["refund_minor"] == TOTAL
    assert (await client.get(f"/v1/orders/{order['id']}", headers=buyer.headers)).json()[
        "status"
    ] == "refunded"
    assert (
        await client.get(f"/v1/deliveries/{order['licence_id']}", headers=buyer.headers)
    ).status_code == 410
    assert (await payout_of(api, seller.headers, order["id"]))["status"] == "cancelled"

    seller2, buyer2, _, order2, dispute2 = await disputed(api)
    rejected = await client.post(
        f"/v1/disputes/{dispute2['id']}/resolution",
        json={"outcome": "reject", "reason": "the sample matched the registered fingerprint"},
        headers=operator,
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert (await payout_of(api, seller2.headers, order2["id"]))["status"] == "due"
    done = await client.post(f"/v1/orders/{order2['id']}/completion", headers=buyer2.headers)
    assert done.status_code == 200 and done.json()["status"] == "completed"
    bad = await client.post(
        f"/v1/disputes/{dispute2['id']}/resolution",
        json={"outcome": "reject", "amount_minor": 5, "reason": "amount on a rejection"},
        headers=operator,
    )
    assert bad.status_code == 422
    await books_balance(api, operator)


async def test_who_may_dispute_and_what_is_refused(api: Api, client: Any, app: Any) -> None:
    _seller, buyer, operator, _product, order = await sale(api, total_minor=TOTAL)
    body = {"order_id": order["id"], "reason": "not_delivered", "description": "nothing arrived"}
    stranger = await api.org(roles=("buyer",))
    assert (await client.post("/v1/disputes", json=body, headers=stranger.headers)).status_code == 404
    bad_reason = await client.post(
        "/v1/disputes", json={**body, "reason": "buyer_remorse"}, headers=buyer.headers
    )
    assert bad_reason.status_code == 422
    await client.post(f"/v1/orders/{order['id']}/completion", headers=buyer.headers)
    accepted = await client.post("/v1/disputes", json=body, headers=buyer.headers)
    assert accepted.status_code == 409 and "accepted" in accepted.json()["detail"]
    await books_balance(api, operator)


async def test_deadlines_follow_the_exchange_calendar_and_overdue_disputes_alert_once(
    api: Api, client: Any, app: Any
) -> None:
    operator = await api.staff("operator")
    # An operator declares the next working day a holiday: every deadline moves past it.
    calendar = load_calendar()
    next_working = add_working_days(clock.now(), 1, calendar)
    added = await client.post(
        "/v1/holidays",
        json={"day": local_day(next_working).isoformat(), "kind": "holiday", "name": "provincial day off"},
        headers=operator,
    )
    assert added.status_code == 201, added.text
    _seller, _buyer, _operator, _order, dispute = await disputed(api)
    opened = datetime.fromisoformat(dispute["created_at"])
    shifted = calendar.extended(holidays=[local_day(next_working)])
    assert datetime.fromisoformat(dispute["resolve_by"]) == add_working_days(opened, 10, shifted)
    assert datetime.fromisoformat(dispute["resolve_by"]) > add_working_days(opened, 10, calendar)

    runtime = app.state.runtime
    assert await flag_overdue_disputes(runtime) == 0
    clock.advance(datetime.fromisoformat(dispute["resolve_by"]) - clock.now() + timedelta(minutes=1))
    assert await flag_overdue_disputes(runtime) == 1
    assert await flag_overdue_disputes(runtime) == 0
    alerts = (await client.get("/v1/alerts?rule=dispute-overdue", headers=operator)).json()["items"]
    assert [a["subject_id"] for a in alerts] == [dispute["id"]]
