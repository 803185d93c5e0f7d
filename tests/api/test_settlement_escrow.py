"""Escrow end to end: proceeds held, due on acceptance or when the window passes, paid out by an
operator's recorded transfer; statements per period (JSON and CSV); refunds after a payout are
recovered from the next transfer. Every scenario ends with the books balanced to the fen."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from market.audit.models import AuditEntry
from market.common import clock
from market.payments.jobs import release_due_payouts
from market.payments.models import LedgerEntry
from tests.api.factories import Api, row_count
from tests.api.settlement_factories import books_balance, key, paid_order, payout_of, sale

TOTAL, COMMISSION = 36_500, 1_825  # 5 % of 365 yuan
PROCEEDS = TOTAL - COMMISSION


async def test_held_then_due_on_acceptance_then_paid_out_by_a_recorded_transfer(
    api: Api, client: Any, app: Any
) -> None:
    seller, buyer, operator, _product, order = await sale(api, total_minor=TOTAL)

    held = await payout_of(api, seller.headers, order["id"])
    assert (held["status"], held["held_minor"], held["due_minor"]) == ("held", PROCEEDS, 0)
    statement = (await client.get("/v1/payouts", headers=seller.headers)).json()
    [row] = statement["rows"]
    assert (row["paid_by_buyers_minor"], row["commission_minor"], row["held_minor"], row["due_minor"]) == (
        TOTAL,
        COMMISSION,
        PROCEEDS,
        0,
    )
    # Nothing is due yet: a transfer finds nothing to pay.
    early = await client.post(
        "/v1/payouts/transfers",
        json={"seller_id": seller.participant_id, "bank_reference": "ICBC-20261130-0001"},
        headers={**operator, **key()},
    )
    assert early.status_code == 409 and early.json()["type"].endswith("/nothing-due")

    accepted = await client.post(f"/v1/orders/{order['id']}/completion", headers=buyer.headers)
    assert accepted.status_code == 200 and accepted.json()["status"] == "completed"
    due = await payout_of(api, seller.headers, order["id"])
    assert (due["status"], due["held_minor"], due["due_minor"]) == ("due", 0, PROCEEDS)

    body = {"seller_id": seller.participant_id, "bank_reference": "ICBC-20261130-0001", "note": "November"}
    assert (await client.post("/v1/payouts/transfers", json=body, headers=operator)).status_code == 428
    not_staff = await client.post("/v1/payouts/transfers", json=body, headers={**seller.headers, **key()})
    assert not_staff.status_code == 403
    keyed = {**operator, **key("transfer")}
    sent = await client.post("/v1/payouts/transfers", json=body, headers=keyed)
    assert sent.status_code == 201, sent.text
    transfer = sent.json()
    assert (transfer["status"], transfer["amount_minor"]) == ("succeeded", PROCEEDS)
    assert transfer["breakdown"] == {order["id"]: PROCEEDS}
    assert transfer["provider_ref"] == "bank:ICBC-20261130-0001"
    replay = await client.post("/v1/payouts/transfers", json=body, headers=keyed)
    assert replay.json() == transfer and replay.headers["Idempotent-Replayed"] == "true"
    again = await client.post("/v1/payouts/transfers", json=body, headers={**operator, **key()})
    assert again.status_code == 409  # the same bank transfer is not recorded twice

    paid_out = await payout_of(api, seller.headers, order["id"])
    assert (paid_out["status"], paid_out["due_minor"], paid_out["transfer_id"]) == (
        "paid_out",
        0,
        transfer["id"],
    )
    listed = (await client.get("/v1/payouts/transfers", headers=seller.headers)).json()["items"]
    assert [t["id"] for t in listed] == [transfer["id"]]
    stranger = await api.org()
    assert (await client.get("/v1/payouts/transfers", headers=stranger.headers)).json()["items"] == []
    assert (await client.get("/v1/payouts", headers=stranger.headers)).json()["rows"] == []
    peek = await client.get(f"/v1/payouts?seller_id={seller.participant_id}", headers=stranger.headers)
    assert peek.status_code == 403

    totals = await books_balance(api, operator)
    assert totals[seller.participant_id] == {
        "paid_by_buyers_minor": TOTAL,
        "commission_minor": COMMISSION,
        "refunded_minor": 0,
        "paid_out_minor": PROCEEDS,
        "held_minor": 0,
        "due_minor": 0,
        "refunds_owed_minor": 0,
    }
    as_csv = await client.get("/v1/payouts?format=csv&period=day", headers=seller.headers)
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    [line] = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert (line["paid_out_minor"], line["held_minor"], line["seller_id"]) == (
        str(PROCEEDS),
        "0",
        seller.participant_id,
    )


async def test_the_acceptance_window_passing_makes_the_payout_due_and_ends_disputes(
    api: Api, client: Any, app: Any
) -> None:
    seller, buyer, operator, _product, order = await sale(api, total_minor=TOTAL)
    runtime = app.state.runtime

    clock.advance(timedelta(days=6))
    assert await release_due_payouts(runtime) == 0  # the 7-day window still runs
    clock.advance(timedelta(days=1, minutes=1))
    assert await release_due_payouts(runtime) == 1
    assert await release_due_payouts(runtime) == 0  # done once, whoever runs it again
    due = await payout_of(api, seller.headers, order["id"])
    assert (due["status"], due["due_minor"]) == ("due", PROCEEDS)
    late = await client.post(
        "/v1/disputes",
        json={"order_id": order["id"], "reason": "not_as_described", "description": "too late now"},
        headers=buyer.headers,
    )
    assert late.status_code == 409 and late.json()["type"].endswith("/dispute-window-closed")
    await books_balance(api, operator)


async def test_a_refund_after_the_payout_is_recovered_from_the_next_transfer(
    api: Api, client: Any, app: Any
) -> None:
    seller, buyer, operator, product, first = await sale(api, total_minor=TOTAL)
    await client.post(f"/v1/orders/{first['id']}/completion", headers=buyer.headers)
    body = {"seller_id": seller.participant_id, "bank_reference": "BOC-0001"}
    assert (
        await client.post("/v1/payouts/transfers", json=body, headers={**operator, **key()})
    ).status_code == 201

    # The buyer is refunded 10,000 fen after the seller was paid: the seller owes it back.
    refund = await client.post(
        f"/v1/orders/{first['id']}/refund",
        json={"reason": "half the records were missing", "amount_minor": 10_000},
        headers={**operator, **key()},
    )
    assert refund.status_code == 201 and refund.json()["status"] == "succeeded", refund.text
    commission_back = 500  # 5 % of the refund
    owed = await payout_of(api, seller.headers, first["id"])
    assert (owed["status"], owed["due_minor"]) == ("paid_out", -(10_000 - commission_back))
    alone = await client.post(
        "/v1/payouts/transfers", json={**body, "bank_reference": "BOC-0002"}, headers={**operator, **key()}
    )
    assert alone.status_code == 409  # nothing to pay while the seller owes

    # Another sale, whose payout falls due when its window passes.
    second = await paid_order(
        api, await api.org(roles=("buyer",)), product["product_id"], operator, total_minor=TOTAL
    )
    clock.advance(timedelta(days=8))
    await release_due_payouts(app.state.runtime)
    net = await client.post(
        "/v1/payouts/transfers", json={**body, "bank_reference": "BOC-0003"}, headers={**operator, **key()}
    )
    assert net.status_code == 201, net.text
    assert net.json()["amount_minor"] == PROCEEDS - (10_000 - commission_back)
    assert net.json()["breakdown"] == {second["id"]: PROCEEDS, first["id"]: -(10_000 - commission_back)}
    assert (await payout_of(api, seller.headers, first["id"]))["due_minor"] == 0
    totals = await books_balance(api, operator)
    assert totals[seller.participant_id]["refunded_minor"] == 10_000
    assert totals[seller.participant_id]["paid_out_minor"] == 2 * PROCEEDS - (10_000 - commission_back)


async def test_an_illegal_transition_answers_409_and_changes_nothing(api: Api, client: Any, app: Any) -> None:
    seller, buyer, operator, _product, order = await sale(api, total_minor=TOTAL)
    refunded = await client.post(
        f"/v1/orders/{order['id']}/refund", json={"reason": "seller withdrew"}, headers={**operator, **key()}
    )
    assert refunded.status_code == 201, refunded.text
    before = (await row_count(app, AuditEntry), await row_count(app, LedgerEntry))
    attempts = [
        await client.post(
            f"/v1/orders/{order['id']}/completion", headers=buyer.headers
        ),  # refunded -> completed
        await client.post(f"/v1/payments/{order['id']}/confirmation", headers=operator),  # paid twice
        await client.post(
            "/v1/disputes",
            json={"order_id": order["id"], "reason": "not_delivered", "description": "after a refund"},
            headers=buyer.headers,
        ),
        await client.post(
            f"/v1/orders/{order['id']}/cancellation", json={"reason": "late"}, headers=buyer.headers
        ),
    ]
    assert [a.status_code for a in attempts] == [409, 409, 409, 409]
    assert attempts[0].json()["type"].endswith("/invalid-order-state")
    assert attempts[0].json()["current_status"] == "refunded"
    assert (await row_count(app, AuditEntry), await row_count(app, LedgerEntry)) == before
    assert (await client.get(f"/v1/orders/{order['id']}", headers=buyer.headers)).json()[
        "status"
    ] == "refunded"
    assert (await payout_of(api, seller.headers, order["id"]))["status"] == "cancelled"
    await books_balance(api, operator)
