"""Stripe events are believed only as far as they match the payment: amount, currency, provider
and payment. A refund beyond what was paid, or an event about an offline payment, is refused and
alerts operators; malformed bodies answer 400. A payment the trade rules now refuse is refunded
through Stripe. Card disputes map onto the dispute model. Books balanced at each end."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import stripe

from market.common import clock
from market.payments.jobs import release_due_payouts, retry_requested_refunds
from market.payments.models import LedgerEntry, WebhookEvent
from market.payments.stripe_provider import StripeProvider
from tests.api import runtime_swaps as swaps
from tests.api.compliance_factories import listed_product
from tests.api.factories import Api, row_count
from tests.api.settlement_factories import books_balance, key, order, payout_of
from tests.api.stripe_fake import WEBHOOK_SECRET, FakeStripe, signed_event

TOTAL = 20_000


@pytest.fixture
def fake_stripe(app: Any) -> Iterator[FakeStripe]:
    fake = FakeStripe()
    with swaps.payment_provider(app, StripeProvider("sk_test_123", http_client=fake)):
        yield fake


async def post_event(client: Any, event_type: str, obj: dict[str, Any]) -> Any:
    body, headers = signed_event(event_type, obj, f"evt_{uuid.uuid4().hex[:12]}")
    return await client.post("/v1/payments/stripe/webhook", content=body, headers=headers)


def intent(o: dict[str, Any], amount: int = TOTAL, currency: str = "cny") -> dict[str, Any]:
    return {"id": o["payment_reference"], "amount": amount, "amount_received": amount, "currency": currency}


async def stripe_order(api: Api) -> tuple[Any, Any, dict[str, Any]]:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    product = await listed_product(api.app, seller.participant_id)
    placed = await order(api, buyer, product["product_id"], total_minor=TOTAL)
    assert placed.status_code == 201, placed.text
    return seller, buyer, placed.json()


async def blacklist(client: Any, operator: dict[str, str], party: Any) -> None:
    r = await client.patch(
        f"/v1/participants/{party.participant_id}/credit",
        json={"status": "blacklisted", "reason": "sanctioned"},
        headers=operator,
    )
    assert r.status_code == 200, r.text


async def alerts(client: Any, operator: dict[str, str], rule: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await client.get(f"/v1/alerts?rule={rule}", headers=operator)).json()[
        "items"
    ]
    return items


async def test_events_that_do_not_match_the_payment_are_refused_and_alert(
    api: Api, client: Any, app: Any, fake_stripe: FakeStripe
) -> None:
    operator = await api.staff("operator")
    seller, buyer, o = await stripe_order(api)
    for wrong in (intent(o, amount=TOTAL - 1), intent(o, currency="usd")):
        r = await post_event(client, "payment_intent.succeeded", wrong)
        assert r.status_code == 200 and r.json()["outcome"].startswith("refused:"), r.text
    assert (await client.get(f"/v1/orders/{o['id']}", headers=buyer.headers)).json()[
        "status"
    ] == "pending_payment"
    assert len(await alerts(client, operator, "webhook-mismatch")) == 2

    assert (await post_event(client, "payment_intent.succeeded", intent(o))).json()["outcome"] == "paid"
    lines = await row_count(app, LedgerEntry)
    charge = {"id": "ch_1", "payment_intent": o["payment_reference"], "amount": TOTAL, "currency": "cny"}
    over = await post_event(client, "charge.refunded", {**charge, "amount_refunded": TOTAL + 1})
    assert over.json()["outcome"].startswith("refused:")
    assert await row_count(app, LedgerEntry) == lines
    part = await post_event(client, "charge.refunded", {**charge, "amount_refunded": 15_000})
    assert part.json()["outcome"] == "refunded"
    # Stripe's running total grows by more than is left of the payment: refused, nothing booked.
    beyond = await post_event(
        client, "charge.refunded", {**charge, "amount": TOTAL + 1, "amount_refunded": TOTAL}
    )
    assert beyond.json()["outcome"].startswith("refused:")
    assert len(await alerts(client, operator, "webhook-refund-exceeds")) == 1
    book = (await client.get(f"/v1/orders/{o['id']}/ledger", headers=seller.headers)).json()
    assert sum(x["amount_minor"] for x in book["lines"] if x["kind"] == "refund") == -15_000
    await books_balance(api, operator)


async def test_an_event_for_an_offline_payment_is_refused(api: Api, client: Any, app: Any) -> None:
    operator = await api.staff("operator")
    _seller, buyer, o = await stripe_order(api)  # the offline provider: reference offline_<order>
    assert o["payment_reference"].startswith("offline_")
    r = await post_event(client, "payment_intent.succeeded", intent(o))
    assert r.status_code == 200 and r.json()["outcome"].startswith("refused:")
    assert (await client.get(f"/v1/orders/{o['id']}", headers=buyer.headers)).json()[
        "status"
    ] == "pending_payment"
    [alert] = await alerts(client, operator, "webhook-offline-payment")
    assert alert["status"] == "open"
    await books_balance(api, operator)


@pytest.mark.parametrize(
    "body",
    [
        b"[1, 2, 3]",
        b'"event"',
        b"{}",
        b'{"id": "evt_1", "type": "x"}',
        b'{"id": "evt_1", "type": "x", "data": []}',
        b"{",
    ],
)
async def test_malformed_bodies_answer_400_and_change_nothing(client: Any, app: Any, body: bytes) -> None:
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), WEBHOOK_SECRET)
    r = await client.post("/v1/payments/stripe/webhook", content=body, headers={"Stripe-Signature": header})
    assert r.status_code == 400, r.text
    assert r.json()["type"].endswith("/malformed-webhook")
    assert await row_count(app, WebhookEvent) == 0


async def test_a_card_payment_the_rules_now_refuse_is_refunded_through_stripe(
    api: Api, client: Any, app: Any, fake_stripe: FakeStripe
) -> None:
    operator = await api.staff("operator")
    seller, buyer, o = await stripe_order(api)
    await blacklist(client, operator, buyer)
    r = await post_event(client, "payment_intent.succeeded", intent(o))
    assert r.json()["outcome"] == "refused by the trade rules"
    refused = (await client.get(f"/v1/orders/{o['id']}", headers=seller.headers)).json()
    assert refused["status"] == "refused" and refused["licence_id"] is None
    [sent] = fake_stripe.created("refunds")
    assert sent["body"]["amount"] == str(TOTAL) and sent["key"].startswith("market:refund:")
    # Stripe confirms the refund it made: nothing more is booked.
    echo = await post_event(
        client,
        "charge.refunded",
        {"id": "ch_2", "payment_intent": o["payment_reference"], "amount": TOTAL, "amount_refunded": TOTAL},
    )
    assert echo.json()["outcome"] == "already applied"
    await books_balance(api, operator)


async def test_card_disputes_freeze_the_payout_and_stripes_outcome_resolves_them(
    api: Api, client: Any, app: Any, fake_stripe: FakeStripe
) -> None:
    operator = await api.staff("operator")
    outcomes = {}
    for status, amount in (("lost", 5_000), ("won", TOTAL)):
        seller, buyer, o = await stripe_order(api)
        await post_event(client, "payment_intent.succeeded", intent(o))
        dispute_obj = {"id": f"dp_{status}", "payment_intent": o["payment_reference"], "amount": amount}
        opened = await post_event(
            client, "charge.dispute.created", {**dispute_obj, "reason": "product_not_received"}
        )
        assert opened.json()["outcome"] == "disputed"
        [dispute] = (await client.get("/v1/disputes", headers=buyer.headers)).json()["items"]
        assert (dispute["source"], dispute["reason"]) == ("stripe", "not_delivered")
        assert (await payout_of(api, seller.headers, o["id"]))["status"] == "frozen"
        by_hand = await client.post(
            f"/v1/disputes/{dispute['id']}/resolution",
            json={"outcome": "reject", "reason": "not ours to decide"},
            headers=operator,
        )
        assert by_hand.status_code == 409 and by_hand.json()["type"].endswith("/card-dispute")
        closed = await post_event(client, "charge.dispute.closed", {**dispute_obj, "status": status})
        outcomes[status] = closed.json()["outcome"]
        after = (await client.get(f"/v1/disputes/{dispute['id']}", headers=buyer.headers)).json()
        payout = await payout_of(api, seller.headers, o["id"])
        if status == "lost":
            assert (after["status"], after["refund_minor"]) == ("partially_refunded", 5_000)
            assert payout["status"] == "due"
        else:
            assert after["status"] == "rejected" and payout["status"] == "due"
        assert (await client.get(f"/v1/orders/{o['id']}", headers=buyer.headers)).json()[
            "status"
        ] == "delivered"
    assert outcomes == {"lost": "dispute lost", "won": "dispute won"}
    await books_balance(api, operator)


async def test_a_refund_stripe_cannot_take_now_is_owed_then_retried_by_the_job(
    api: Api, client: Any, app: Any, fake_stripe: FakeStripe
) -> None:
    operator = await api.staff("operator")
    seller, buyer, o = await stripe_order(api)
    await blacklist(client, operator, buyer)
    fake_stripe.fault = "unreachable"
    r = await post_event(client, "payment_intent.succeeded", intent(o))
    assert r.status_code == 200 and r.json()["outcome"] == "refused by the trade rules"
    # Decided and owed to the buyer, not lost: the statement shows it, and the seller none of it.
    [row] = (await client.get("/v1/payouts", headers=seller.headers)).json()["rows"]
    assert (row["refunds_owed_minor"], row["held_minor"], row["refunded_minor"]) == (TOTAL, 0, 0)
    clock.advance(timedelta(days=8))
    assert await release_due_payouts(app.state.runtime) == 0  # a refused trade never pays out
    fake_stripe.fault = None
    assert await retry_requested_refunds(app.state.runtime) == 1
    assert await retry_requested_refunds(app.state.runtime) == 0
    assert len([m for m in fake_stripe.made if m.startswith("re_")]) == 1
    await books_balance(api, operator)


async def test_a_refund_stripe_refuses_is_released_and_alerts(
    api: Api, client: Any, app: Any, fake_stripe: FakeStripe
) -> None:
    operator = await api.staff("operator")
    seller, buyer, o = await stripe_order(api)
    assert (await post_event(client, "payment_intent.succeeded", intent(o))).json()["outcome"] == "paid"
    fake_stripe.fault = "400"
    refused = await client.post(
        f"/v1/orders/{o['id']}/refund", json={"reason": "goodwill"}, headers={**operator, **key()}
    )
    assert refused.status_code == 502, refused.text
    [alert] = await alerts(client, operator, "refund-failed")
    assert alert["subject_id"] == o["id"]
    held = await payout_of(api, seller.headers, o["id"])
    assert held["held_minor"] == TOTAL - 1_000  # back where it was (5 % commission kept)
    assert (await client.get(f"/v1/orders/{o['id']}", headers=buyer.headers)).json()["status"] == "delivered"
    await books_balance(api, operator)
